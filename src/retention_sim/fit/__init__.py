"""Fitters for the standard customer-lifetime models.

One model per module, one contract (``fit(...)`` returns ``self``; ``params_``, ``se_``,
``log_likelihood_``, ``n_``, ``summary``, ``to_dict()``; predictions as methods):

========== ============= ==================================================
name       class         model
========== ============= ==================================================
sbg        SBG           shifted-beta-geometric (Fader & Hardie 2007)
bgnbd      BGNBD         BG/NBD (Fader, Hardie & Lee 2005)
paretonbd  ParetoNBD     Pareto/NBD (Schmittlein, Morrison & Colombo 1987)
gammagamma GammaGamma    Gamma-Gamma spend (Fader, Hardie & Lee 2005)
bgbb       BGBB          BG/BB (Fader, Hardie & Shang 2010)
km         KaplanMeier   Kaplan-Meier with Greenwood variance
========== ============= ==================================================

:func:`fit_file` reads a data file, works out its format and fits a model by name; the
command line's ``retention-sim fit MODEL DATA`` uses it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.readers import (
    detect_format,
    read_bgbb,
    read_durations,
    read_rfm,
    read_survivors,
    read_transactions,
    summarise_transactions,
)
from ..kernel.errors import InputError, elide
from ..kernel.files import check_input_file, utf8_error
from .base import ParametricFitter
from .bgbb import BGBB
from .bgnbd import BGNBD
from .gammagamma import GammaGamma
from .km import KaplanMeier
from .paretonbd import ParetoNBD
from .sbg import SBG

__all__ = [
    "SBG", "BGNBD", "ParetoNBD", "GammaGamma", "BGBB", "KaplanMeier",
    "ParametricFitter", "MODELS", "fit_file",
]

MODELS: dict[str, type[ParametricFitter] | type[KaplanMeier]] = {
    "sbg": SBG, "bgnbd": BGNBD, "paretonbd": ParetoNBD, "gammagamma": GammaGamma,
    "bgbb": BGBB, "km": KaplanMeier,
}
"""Model names accepted by :func:`fit_file` and the command line."""

_EXPECTS = {  # model -> input formats it can be fitted on
    "sbg": ("survivors",), "bgnbd": ("transactions", "rfm"),
    "paretonbd": ("transactions", "rfm"), "gammagamma": ("transactions", "rfm"),
    "bgbb": ("bgbb",), "km": ("durations",),
}


def fit_file(model: str, path: str | os.PathLike[str], *, time_unit: str = "week",
             observation_end: str | None = None
             ) -> ParametricFitter | KaplanMeier:
    """Fit the model named ``model`` to the CSV file at ``path``.

    Parameters
    ----------
    model : {"sbg", "bgnbd", "paretonbd", "gammagamma", "bgbb", "km"}
        Which model to fit.
    path : path-like
        A CSV file in one of the formats of :mod:`retention_sim.data.readers`.  For the transaction models the
        file may be a transaction log (``customer_id, date[, amount]``, summarised with
        :func:`retention_sim.data.summarise_transactions` up to the last date) or an RFM
        summary (``customer_id, frequency, recency, T[, monetary_value]``).
    time_unit : {"day", "week", "month", "quarter", "year"}
        Unit of recency and T when a transaction log is summarised.
    observation_end : date-like, optional
        End of observation of a transaction log (default: its last date).

    Returns
    -------
    ParametricFitter or KaplanMeier
        The fitted model; its ``input_format_`` says which format was found
        (``"transactions"``, ``"rfm"``, ``"survivors"``, ``"bgbb"`` or ``"durations"``).

    Raises
    ------
    InputError
        Unknown model, unreadable file, a format the model cannot use, or bad values
        (the message names the file, row, column and value).
    """
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}.")
    source = str(path)
    file = check_input_file(path, "a CSV data file", empty_ok=True)
    if file.stat().st_size == 0:
        raise InputError("the file is empty; expected a CSV file with a header line.", source)
    try:
        header = pd.read_csv(file, nrows=0)
    except UnicodeDecodeError as exc:
        raise utf8_error(file.read_bytes(), exc, source) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"not a readable CSV file ({elide(str(exc), 200)}).", source) from None
    try:
        fmt = detect_format(header)
        if fmt not in _EXPECTS[model]:
            raise InputError(
                f"the columns ({', '.join(map(str, header.columns))}) look like {fmt} data, "
                f"but {model} is fitted on {' or '.join(_EXPECTS[model])} data.")
        fitted = _fit(model, fmt, file, time_unit, observation_end)
    except InputError as exc:
        raise exc.with_source(source) from None
    fitted.input_format_ = fmt
    return fitted


def _fit(model: str, fmt: str, file: Path, time_unit: str, observation_end: str | None
         ) -> ParametricFitter | KaplanMeier:
    if model == "sbg":
        return SBG().fit(read_survivors(file))
    if model == "bgbb":
        return BGBB().fit(read_bgbb(file))
    if model == "km":
        return KaplanMeier().fit(read_durations(file))
    rfm = (summarise_transactions(file, time_unit=time_unit,
                                  observation_end=observation_end) if fmt == "transactions"
           else read_rfm(file))
    if model == "gammagamma":
        if "monetary_value" not in rfm.columns:
            raise InputError("the Gamma-Gamma model needs spend: an 'amount' column in a "
                             "transaction log or 'monetary_value' in an RFM summary.")
        if fmt == "transactions":
            _check_repeat_spend(rfm, file)
        return GammaGamma().fit(rfm)
    return (BGNBD() if model == "bgnbd" else ParetoNBD()).fit(rfm)


def _check_repeat_spend(rfm: pd.DataFrame, file: Path) -> None:
    """A repeat buyer whose repeat purchases are worth nothing, named with the lines of the
    transaction log that hold the customer's purchases."""
    bad = rfm[(rfm["frequency"] > 0) & ~(rfm["monetary_value"] > 0)]
    if bad.empty:
        return
    customer = bad["customer_id"].iloc[0]
    tx = read_transactions(file)
    lines = np.flatnonzero((tx["customer_id"] == customer).to_numpy()) + 2  # header is line 1
    shown = ", ".join(map(str, lines[:6])) + (", ..." if len(lines) > 6 else "")
    raise InputError(f"customer {elide(repr(customer), 60)} (lines {shown}, column 'amount'): "
                     f"{int(bad['frequency'].iloc[0])} repeat purchase(s) worth "
                     f"{bad['monetary_value'].iloc[0]:g} on average; the Gamma-Gamma model "
                     "needs a mean repeat purchase value > 0 for every repeat buyer (fix the "
                     "amounts or leave such customers out).")
