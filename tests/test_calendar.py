"""The business calendar of the desk: opening hours, closed days, agents paid while on duty,
arrival profiles as a non-homogeneous Poisson process, and what happens to contacts while a
channel is closed (docs/model.md §1.3)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import binomial_half_width, simultaneous_t

from retention_sim import Result, scenario_from_dict, simulate
from retention_sim.engine.timetable import Opening, Profile
from retention_sim.queueing.erlang import erlang_a
from retention_sim.scenario.calendar import weekly_hours

SEGMENT = {"name": "subs", "price_per_period": 20.0,
           "dropout": {"model": "sbg", "alpha": 1.0, "beta": 10.0, "renewal": "year"}}
QUIET = {"routine_wait_per_hour": 0.0, "routine_abandoned": 0.0, "routine_answered": 0.0}


def desk(channels: list[dict[str, Any]], *, n: int = 3000, horizon: float = 28,
         period: str = "week", service: dict[str, Any] | None = None,
         start_date: str | None = "2024-01-01", **top: Any):
    svc = {"enabled": True, "problem_probability": 0.0, "routine_contacts_per_period": 0.5,
           "channels": channels, **(service or {})}
    data = {"name": "desk", "horizon_days": horizon, "period": period,
            "population": {"initial_customers": n, "segments": [SEGMENT]},
            "service": svc, "effects": QUIET, **top}
    if start_date is not None:
        data["start_date"] = start_date
    return scenario_from_dict(data)


def periods_csv(out) -> bytes:
    buf = io.StringIO()
    Result([out]).periods.to_csv(buf, index=False, float_format="%.10g")
    return buf.getvalue().encode()


# -- a flat calendar is the old model, byte for byte --------------------------------------------
def test_flat_profile_and_24_7_hours_reproduce_the_output_byte_for_byte() -> None:
    channels = [{"name": "phone", "share": 0.6, "agents": 2, "handle_minutes": 8,
                 "patience_minutes": 4, "cost_per_hour": 30,
                 "shifts": [1] * 7 + [3] * 12 + [2] * 5},
                {"name": "email", "share": 0.4, "agents": 1, "handle_minutes": 12}]
    service = {"problem_probability": 0.05, "routine_contacts_per_period": 0.3,
               "retry_probability": 0.6}
    plain = desk(channels, service=service, horizon=91.3125, period="month", start_date=None)
    calendar = [{**c, "hours": {"daily": "00:00-24:00"}, "after_hours": "give_up"}
                for c in channels]
    flat = desk(calendar, horizon=91.3125, period="month", service={
        **service, "arrival_profile": {"hour_of_day": [3.0] * 24, "day_of_week": [2.0] * 7,
                                       "month_of_year": [1.0] * 12}})
    a, b = simulate(plain, seed=5), simulate(flat, seed=5)
    assert periods_csv(a) == periods_csv(b)
    for key, column in a.extra["contacts"].items():
        np.testing.assert_array_equal(column, b.extra["contacts"][key], err_msg=key)
    for key, column in a.customers.items():
        np.testing.assert_array_equal(column, b.customers[key], err_msg=key)
    assert a.periods["contacts"].sum() > 500 and a.periods["abandoned"].sum() > 10


# -- opening hours, agents on duty and their cost --------------------------------------------------
def open_hours(week: dict[str, Any], start: dt.date, days: int, closed=()) -> list[float]:
    """Hours open on each of ``days`` days, by enumerating the dates (no engine code)."""
    parsed = weekly_hours(week)
    return [0.0 if start + dt.timedelta(d) in closed else
            sum(e - s for s, e in parsed[(start + dt.timedelta(d)).weekday()]) / 60
            for d in range(days)]


def test_agent_cost_is_scheduled_hours_times_rate_exactly() -> None:
    hours = {"mon-fri": "08:00-18:00", "sat": "09:00-13:30"}
    closed = [dt.date(2024, 1, 3), dt.date(2024, 1, 20)]  # a Wednesday and a Saturday
    channels = [{"name": "phone", "share": 0.5, "agents": 12, "cost_per_hour": 31.5,
                 "hours": hours},
                {"name": "chat", "share": 0.5, "agents": 3, "cost_per_hour": 22.0,
                 "hours": {"mon-fri": "09:00-17:00"},
                 "shifts": [0] * 9 + [2, 3, 4, 4, 4, 4, 3, 2] + [0] * 7}]
    out = simulate(desk(channels, n=200, service={"closed_dates": [str(d) for d in closed]}),
                   seed=1)
    p = out.periods
    per_day = np.array(open_hours(hours, dt.date(2024, 1, 1), 28, closed))
    phone_hours = 12 * per_day.reshape(4, 7).sum(axis=1)
    np.testing.assert_allclose(p["phone.agent_hours"], phone_hours, rtol=1e-12)
    chat_day = [0.0 if d % 7 >= 5 or dt.date(2024, 1, 1) + dt.timedelta(d) in closed else 26.0
                for d in range(28)]  # 2 + 3 + 4 × 4 + 3 + 2 agent-hours on a weekday
    chat_hours = np.array(chat_day).reshape(4, 7).sum(axis=1)
    np.testing.assert_allclose(p["chat.agent_hours"], chat_hours, rtol=1e-12)
    np.testing.assert_allclose(p["agent_cost"], 31.5 * phone_hours + 22.0 * chat_hours,
                               rtol=1e-12)
    assert phone_hours[0] == 12 * (4 * 10 + 4.5) and phone_hours[2] == 12 * 5 * 10


def test_agents_serve_only_while_the_channel_is_open() -> None:
    hours = {"mon-fri": "08:00-18:00"}
    channels = [{"name": "chat", "agents": 4, "handle_minutes": 10, "patience_minutes": 30,
                 "hours": hours, "after_hours": "wait"}]
    out = simulate(desk(channels, n=1000, service={"retry_probability": 0.0}), seed=2)
    c = pd.DataFrame(out.extra["contacts"])
    op = Opening(weekly_hours(hours), dt.date(2024, 1, 1), (), 28, 2)
    handled = c[c.handled]
    assert len(handled) > 1000
    assert op.is_open(handled.start_day.to_numpy()).all()
    # waits count open time only: a contact that arrived at night waited from the opening
    waited = op.open_time(handled.start_day.to_numpy()) - op.open_time(handled.arrival_day.to_numpy())
    np.testing.assert_allclose(handled.wait_minutes, waited * 1440, atol=1e-6)
    night = c[c.after_hours & c.handled]
    overnight = (night.start_day - night.arrival_day) * 24
    assert len(night) > 300 and overnight.median() > 8
    assert (night.wait_minutes < 120).mean() > 0.8
    # patience counts open time too: night contacts wait for the opening (chat, email) and
    # those who give up do so after it, having waited some open time
    gave_up = c[c.after_hours & c.abandoned]
    assert len(gave_up) > 100 and (gave_up.wait_minutes > 0).all()


def test_after_hours_rules_give_up_callback_and_retries_into_open_hours() -> None:
    hours = {"mon-fri": "09:00-17:00"}
    base = {"name": "phone", "agents": 3, "handle_minutes": 6, "patience_minutes": 3,
            "hours": hours, "first_contact_resolution": 0.5}
    service = {"retry_probability": 1.0, "max_attempts": 2, "retry_delay_hours": 20}
    give_up = pd.DataFrame(simulate(desk([{**base, "after_hours": "give_up"}], service=service),
                                    seed=3).extra["contacts"])
    op = Opening(weekly_hours(hours), dt.date(2024, 1, 1), (), 28, 3)
    night = give_up[give_up.after_hours & (give_up.attempt == 1)]
    assert len(night) > 500
    assert night.abandoned.all() and (night.wait_minutes == 0).all()
    retries = give_up[give_up.attempt == 2]
    assert len(retries) > 500 and op.is_open(retries.arrival_day.to_numpy()).all()
    # callers still waiting at closing hang up then: no wait runs past its day's closing
    day_callers = give_up[give_up.abandoned & ~give_up.after_hours]
    k = np.searchsorted(op.starts, day_callers.arrival_day.to_numpy(), side="right") - 1
    left = (op.ends[k] - day_callers.arrival_day.to_numpy()) * 1440
    assert len(day_callers) > 50 and (day_callers.wait_minutes.to_numpy() <= left + 1e-6).all()
    assert (day_callers.wait_minutes.to_numpy() >= left - 1e-6).sum() > 0  # some were cut off
    closing = op.ends[op.ends < 28]

    callback = pd.DataFrame(simulate(desk([{**base, "after_hours": "callback"}], service=service),
                                     seed=3).extra["contacts"])
    night = callback[callback.after_hours & (callback.attempt == 1)]
    assert len(night) > 500 and not night.abandoned.any()
    in_horizon = night[night.arrival_day < closing.max()]
    assert in_horizon.handled.all()
    # the same customers call at the same times under both rules (common random numbers)
    first = ["customer_id", "arrival_day"]
    pd.testing.assert_frame_equal(
        give_up[give_up.attempt == 1][first].reset_index(drop=True),
        callback[callback.attempt == 1][first].reset_index(drop=True))


# -- arrival profiles ---------------------------------------------------------------------------------
def test_profile_is_a_non_homogeneous_poisson_process() -> None:
    hod = [0.2] * 7 + [1.0, 2.0, 3.0, 3.0, 2.5, 2.0, 2.5, 3.0, 3.0, 2.0, 1.5, 1.0] + [0.5] * 5
    dow = [1.2, 1.0, 1.0, 1.0, 1.1, 0.5, 0.2]
    channels = [{"name": "email", "agents": 50, "handle_minutes": 1}]
    out = simulate(desk(channels, n=20000, horizon=56, service={
        "retry_probability": 0.0, "arrival_profile": {"hour_of_day": hod, "day_of_week": dow}}),
        seed=4)
    c = pd.DataFrame(out.extra["contacts"])
    n = len(c)
    hour = np.floor((c.arrival_day % 1) * 24 + 1e-9).astype(int)
    weekday = c.arrival_day.astype(int) % 7  # 2024-01-01 is a Monday
    w = np.outer(np.array(dow) / np.mean(dow), np.array(hod) / np.mean(hod))
    expected = w / w.sum()
    observed = pd.crosstab(weekday, hour).reindex(index=range(7), columns=range(24),
                                                  fill_value=0).to_numpy() / n
    band = binomial_half_width(expected, n, 0.99, k=168)
    assert (np.abs(observed - expected) <= band).all()
    # the volume is the scenario's rate: 0.5 per customer-week over 8 weeks
    assert n == pytest.approx(20000 * 0.5 * 8, rel=4 * (1 / np.sqrt(80000)))


def test_month_factors_scale_the_volume() -> None:
    moy = [2.0] + [1.0] * 11
    prof = Profile([1.0] * 24, [1.0] * 7, list(np.array(moy) / np.mean(moy)),
                   dt.date(2024, 1, 1), 60)
    # January's 31 days weigh 2/(13/12) each, February's 29 days 1/(13/12)
    assert prof.forward(np.array([31.0]))[0] == pytest.approx(31 * 2 * 12 / 13)
    assert prof.forward(np.array([60.0]))[0] == pytest.approx((31 * 2 + 29) * 12 / 13)
    y = np.linspace(0, prof.forward(np.array([59.0]))[0], 101)
    np.testing.assert_allclose(prof.forward(prof.inverse(y)), y, atol=1e-9)


# -- the desk against Erlang A, hour by open hour --------------------------------------------------
@pytest.mark.slow
def test_weekday_desk_matches_erlang_a_in_every_open_hour() -> None:
    """Mon-fri 08:00-18:00 with a staffed profile; per open hour, P(wait) and ASA over
    (replication, weekday) batches against Erlang A at that hour's rate and staffing
    (stationary independent period-by-period), simultaneous 99% t-intervals."""
    n, rate, handle, patience = 20000, 0.6, 2.0, 3.0
    hod = [0.0] * 8 + [0.5, 0.8, 1.0, 1.0, 0.9, 0.8, 1.0, 1.0, 0.9, 0.7] + [0.0] * 6
    shifts = [0] * 8 + [9, 10, 12, 12, 11, 10, 12, 12, 11, 9] + [0] * 6
    channel = {"name": "phone", "shifts": shifts, "handle_minutes": handle,
               "handle_distribution": "exponential", "patience_minutes": patience,
               "first_contact_resolution": 1.0, "hours": {"mon-fri": "08:00-18:00"}}
    sc = desk([channel], n=n, horizon=56, service={
        "routine_contacts_per_period": rate, "retry_probability": 0.0,
        "arrival_profile": {"hour_of_day": hod, "day_of_week": {"mon-fri": 1, "sat-sun": 0}}})
    frames = []
    for r in range(6):
        c = pd.DataFrame(simulate(sc, seed=11, replication=r).extra["contacts"])
        frames.append(c.assign(replication=r))
    c = pd.concat(frames)
    c["hour"] = np.floor((c.arrival_day % 1) * 24 + 1e-9).astype(int)
    c["day"] = c.arrival_day.astype(int)
    c["waited"] = c.wait_minutes > 0
    c["asa"] = np.where(c.handled, c.wait_minutes * 60, np.nan)
    assert set(c.hour) == set(range(8, 18))
    per_hour = np.array(hod) / np.mean(hod) * 7 / 5  # weekday weight 7/5
    k = 2 * 10
    for h in range(8, 18):
        batches = c[c.hour == h].groupby(["replication", "day"]).agg(
            pw=("waited", "mean"), asa=("asa", "mean"))
        lam = n * rate / 7 * per_hour[h] / 24
        theory = erlang_a(lam, handle, shifts[h], patience)
        tq = simultaneous_t(0.99, k, len(batches) - 1)
        for col, value in (("pw", theory.p_wait), ("asa", theory.asa_seconds)):
            x = batches[col].to_numpy()
            half = tq * x.std(ddof=1) / np.sqrt(x.size)
            assert abs(x.mean() - value) <= half, (h, col, x.mean(), value, half)


# -- bad calendars are refused with the field named ------------------------------------------------
@pytest.mark.parametrize(("change", "message"), [
    ({"hours": {"mon-fri": "08:00-18:00", "fri": "17:00-20:00"}},
     "hours 'fri' (17:00-20:00) overlaps 'mon-fri: 08:00-18:00' on fri"),
    ({"hours": {"mon-fri": "18:00-08:00"}}, "ends before it starts"),
    ({"hours": {"weekdays": "08:00-18:00"}}, "'weekdays' is not a day"),
    ({"hours": {"mon": "8am-6pm"}}, "is not an interval HH:MM-HH:MM"),
    ({"hours": {"mon": "08:00-25:00"}}, "is not a time of day"),
    ({"hours": {"mon-sun": "closed"}}, "hours never open the channel"),
    ({"hours": {"mon-fri": "07:00-18:00"}, "shifts": [0] * 8 + [2] * 16},
     "open on mon at 07:00 but shifts has 0 agents"),
    ({"after_hours": "queue"}, "after_hours"),
])
def test_bad_opening_hours_name_the_channel(change: dict[str, Any], message: str) -> None:
    from retention_sim import InputError

    channel = {"name": "phone", "agents": 2, **change}
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        desk([channel])


@pytest.mark.parametrize(("profile", "message"), [
    ({"hour_of_day": [1.0] * 23}, "hour_of_day needs 24 weights, one per hour, 00 to 23; got 23"),
    ({"day_of_week": {"mon-fri": 1}}, "day_of_week needs a weight for every day; missing: sat, sun"),
    ({"month_of_year": [1.0] * 13}, "month_of_year needs 12 weights"),
    ({"hour_of_day": [0.0] * 24}, "weights must not all be 0"),
    ({"hour_of_day": [-1.0] + [1.0] * 23}, r"must be a finite number in \[0, inf\)"),
])
def test_bad_arrival_profiles_are_refused(profile: dict[str, Any], message: str) -> None:
    from retention_sim import InputError

    with pytest.raises(InputError, match=message) as info:
        desk([{"name": "phone"}], service={"arrival_profile": profile})
    assert "service.arrival_profile" in str(info.value)


def test_weekday_settings_need_the_start_date() -> None:
    from retention_sim import InputError

    with pytest.raises(InputError, match="need the date of day 0 .* set start_date"):
        desk([{"name": "phone", "hours": {"mon-fri": "08:00-18:00"}}], start_date=None)
    # hours alike every day do not depend on the weekday
    desk([{"name": "phone", "hours": {"daily": "08:00-18:00"}}], start_date=None)
