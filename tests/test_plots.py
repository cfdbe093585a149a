"""Figures draw exactly the intervals the tables print, and the same seed draws the same picture."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import retention_sim as rs  # noqa: E402
from retention_sim.kernel.stats import t_interval  # noqa: E402
from retention_sim.plots import mean_intervals, plot_periods  # noqa: E402


@pytest.fixture(scope="module")
def periods():
    sc = rs.load_scenario(rs.shipped_scenario("loyalty_offers"),
                          ["population.initial_customers=800", "horizon_days=180"])
    return rs.run(sc, seed=4, replications=4, workers=1).periods


def png(periods) -> bytes:
    fig, ax = plt.subplots()
    plot_periods(periods, "active_end", ax=ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def test_band_is_the_t_interval_of_the_table(periods) -> None:
    band = mean_intervals(periods, "period", "active_end")
    for period in (0, 3, 5):
        values = periods.loc[periods.period == period, "active_end"].to_numpy()
        mean, low, high = t_interval(values)
        row = band.set_index("period").loc[period]
        assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx((mean, low, high))
    fig, ax = plt.subplots()
    plot_periods(periods, "active_end", ax=ax)
    drawn = ax.collections[0].get_paths()[0].vertices  # the band's polygon
    assert np.isclose(drawn[:, 1].max(), band["ci_high"].max())
    assert np.isclose(drawn[:, 1].min(), band["ci_low"].min())
    plt.close(fig)


def test_same_data_same_picture(periods) -> None:
    assert png(periods) == png(periods)
