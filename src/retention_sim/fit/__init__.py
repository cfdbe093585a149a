"""Fitters for the standard customer-lifetime models.

One model per module, one contract (``fit(...)`` returns ``self``; ``params_``, ``se_``,
``log_likelihood_``, ``n_``, ``summary``, ``to_dict()``; predictions as methods):

========== ============= ==================================================
name       class         model
========== ============= ==================================================
sbg        SBG           shifted-beta-geometric (Fader & Hardie 2007)
bgnbd      BGNBD         BG/NBD (Fader, Hardie & Lee 2005)
mbgnbd     MBGNBD        MBG/NBD (Batislam, Denizel & Filiztekin 2007)
paretonbd  ParetoNBD     Pareto/NBD (Schmittlein, Morrison & Colombo 1987)
gammagamma GammaGamma    Gamma-Gamma spend (Fader, Hardie & Lee 2005)
bgbb       BGBB          BG/BB (Fader, Hardie & Shang 2010)
km         KaplanMeier   Kaplan-Meier with Greenwood variance
========== ============= ==================================================

With covariates (docs/model.md §5.6): :class:`SBGCovariates` (static and time-varying,
the engine's cloglog link), :class:`BGNBDCovariates` (purchase exp-link; dropout cloglog,
static or time-varying), :class:`ParetoNBDCovariates` (static exp-links).

:func:`fit_file` reads a data file, works out its format and fits a model by name; the
command line's ``retention-sim fit MODEL DATA`` uses it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.parsing import ReadReport
from ..data.readers import (
    ENCODING_HINT,
    check_encoding,
    detect_format,
    read_bgbb,
    read_durations,
    read_rfm,
    read_survivors,
    read_transactions,
    summarise_transactions,
)
from ..data.subscriptions import (
    read_subscriptions,
    subscription_durations,
    subscription_survivors,
)
from ..kernel.errors import InputError, elide
from ..kernel.files import check_input_file, utf8_error
from .base import ParametricFitter
from .bgbb import BGBB
from .bgnbd import BGNBD
from .bgnbd_cov import BGNBDCovariates
from .covariates import CovariateDesign, CovariateFitter
from .gammagamma import GammaGamma
from .km import KaplanMeier
from .mbgnbd import MBGNBD
from .paretonbd import ParetoNBD
from .paretonbd_cov import ParetoNBDCovariates
from .sbg import SBG, CohortComparison, compare_cohorts
from .sbg_cov import SBGCovariates
from .score import score_customers

__all__ = [
    "SBGCovariates", "BGNBDCovariates", "ParetoNBDCovariates", "CovariateDesign",
    "CovariateFitter", "SBG", "BGNBD", "MBGNBD", "ParetoNBD", "GammaGamma", "BGBB", "KaplanMeier",
    "ParametricFitter", "CohortComparison", "MODELS", "compare_cohorts", "fit_file",
    "model_from_dict", "load_model", "score_customers",
]

MODELS: dict[str, type[ParametricFitter] | type[KaplanMeier]] = {
    "sbg": SBG, "bgnbd": BGNBD, "mbgnbd": MBGNBD, "paretonbd": ParetoNBD,
    "gammagamma": GammaGamma, "bgbb": BGBB, "km": KaplanMeier,
}
"""Model names accepted by :func:`fit_file` and the command line."""

_EXPECTS = {  # model -> input formats it can be fitted on
    "sbg": ("survivors", "subscriptions"), "bgnbd": ("transactions", "rfm"),
    "mbgnbd": ("transactions", "rfm"), "paretonbd": ("transactions", "rfm"),
    "gammagamma": ("transactions", "rfm"), "bgbb": ("bgbb",),
    "km": ("durations", "subscriptions"),
}
def model_from_dict(payload: Mapping[str, Any], source: str | None = None) -> ParametricFitter:
    """A parametric model from the JSON of :meth:`ParametricFitter.to_dict` (``fit --json``).

    Parameters
    ----------
    payload : mapping
        ``{"model", "params", "time_unit", "covariance", "n", ...}``.
    source : str, optional
        Where it came from, for messages.

    Raises
    ------
    InputError
        Not the JSON of a parametric fit, or bad values.
    """
    name = payload.get("model") if isinstance(payload, Mapping) else None
    cls = MODELS.get(name) if isinstance(name, str) else None
    if cls is None or not issubclass(cls, ParametricFitter):
        names = ", ".join(k for k, v in MODELS.items() if issubclass(v, ParametricFitter))
        raise InputError(f"not the JSON of a fit: 'model' must be one of {names}. Got "
                         f"{name!r}.", source)
    params = payload.get("params")
    if not isinstance(params, Mapping):
        raise InputError("the fit's JSON has no 'params' mapping.", source)
    cov = payload.get("covariance")
    if cov is not None and any(v is None for row in cov for v in row):
        cov = None  # a non-finite covariance is unknown
    try:
        model = cls.from_params(dict(params), time_unit=payload.get("time_unit"),
                                covariance=cov, n=int(payload.get("n") or 0))
    except InputError as exc:
        raise exc.with_source(source) if source else exc from None
    ll = payload.get("log_likelihood")
    model.log_likelihood_ = float(ll) if isinstance(ll, int | float) else float("nan")
    return model


def load_model(path: str | os.PathLike[str]) -> ParametricFitter:
    """Read a fit written by ``retention-sim fit ... --out FILE`` (or ``--json``)."""
    source = str(path)
    file = Path(path)
    if not file.is_file():
        raise InputError("no such file; expected the JSON of a fit (retention-sim fit ... "
                         "--out FILE).", source)
    try:
        payload = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not a JSON file ({exc}).", source) from None
    return model_from_dict(payload, source)


_READ_OPTIONS = ("columns", "date_format", "dayfirst", "tz", "returns")


def fit_file(model: str, path: str | os.PathLike[str], *, time_unit: str | None = None,
             observation_end: str | None = None, cohort: str | None = None,
             conf_type: str = "log-log", encoding: str | None = None, **read_options: Any
             ) -> ParametricFitter | KaplanMeier | CohortComparison:
    """Fit the model named ``model`` to the CSV file at ``path``.

    Parameters
    ----------
    model : {"sbg", "bgnbd", "mbgnbd", "paretonbd", "gammagamma", "bgbb", "km"}
        Which model to fit.
    path : path-like
        A CSV file in one of the formats of :mod:`retention_sim.data.readers`: for the
        transaction models a transaction log (summarised up to its last date, or
        ``observation_end``) or an RFM summary; for sBG a survivor table or a
        subscription table (survivors per start-period cohort, see
        :func:`retention_sim.data.subscription_survivors`); for Kaplan-Meier durations or
        a subscription table; for BG/BB its histories.
    time_unit : {"day", "week", "month", "quarter", "year"}, optional
        The time unit, applied to the format (docs/model.md §5.2): the unit in which a
        transaction log is summarised (default week); the unit of recency and T of an
        RFM summary, of the durations, of one BG/BB opportunity or of one sBG renewal
        period (default: unknown, recorded as None); the renewal period of a
        subscription table (default month).  Gamma-Gamma has no time unit and refuses one.
    observation_end : date-like, optional
        End of observation of a transaction log or subscription table (default: its last
        date); refused for other formats.
    cohort : str, optional
        sBG only: fit each group of this column separately and test shared against
        separate parameters (:func:`compare_cohorts`); returns a
        :class:`CohortComparison`.
    conf_type : {"log-log", "log"}
        Kaplan-Meier interval scale.
    encoding : str, optional
        The file's text encoding, e.g. ``"latin-1"`` (default UTF-8), for every format.
    **read_options
        ``columns``, ``date_format``, ``dayfirst``, ``tz``, ``returns`` for transaction
        logs and subscription tables (see :func:`retention_sim.data.read_transactions`).

    Returns
    -------
    ParametricFitter, KaplanMeier or CohortComparison
        The fitted model; ``input_format_`` says which format was found,
        ``read_report_`` what the reader dropped or netted (or None), and ``notes_``
        what the command line should say besides the estimates.

    Raises
    ------
    InputError
        Unknown model, unreadable file, a format the model cannot use, an option the
        format does not take, or bad values (the message names the file, row, line,
        column and value).
    ConvergenceError
        Data that cannot identify the model (what they lack is named).
    """
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}.")
    unknown = [k for k in read_options if k not in _READ_OPTIONS]
    if unknown:
        raise InputError(f"fit_file got an unknown option {unknown[0]!r}; reader options are "
                         f"{', '.join(_READ_OPTIONS)}.")
    if cohort is not None and model != "sbg":
        raise InputError(f"cohort= (--cohort) applies to sbg only, not to {model}.")
    source = str(path)
    file = check_input_file(path, "a CSV data file", empty_ok=True)
    if file.stat().st_size == 0:
        raise InputError("the file is empty; expected a CSV file with a header line.", source)
    codec = check_encoding(encoding, source)
    try:
        header = pd.read_csv(file, nrows=0, encoding=codec)
    except UnicodeDecodeError as exc:
        if codec != "utf-8":
            raise InputError(f"cannot be read as {encoding} text ({exc.reason}); state the "
                             "file's own encoding.", source) from None
        raise utf8_error(file.read_bytes(), exc, source, ENCODING_HINT) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"not a readable CSV file ({elide(str(exc), 200)}).", source) from None
    options = {k: v for k, v in read_options.items() if v is not None}
    try:
        fmt = detect_format(header, options.get("columns"))
        if fmt not in _EXPECTS[model]:
            raise InputError(
                f"the columns ({', '.join(map(str, header.columns))}) look like {fmt} data, "
                f"but {model} is fitted on {' or '.join(_EXPECTS[model])} data.")
        raw = fmt in ("transactions", "subscriptions")
        if not raw and (options or observation_end is not None):
            given = [*options, *(["observation_end"] if observation_end is not None else [])]
            raise InputError(f"{given[0]} applies to transaction logs and subscription "
                             f"tables; this file is {fmt} data.")
        if model == "gammagamma" and time_unit is not None:
            raise InputError("the Gamma-Gamma model describes spend per purchase and has no "
                             f"time unit; time_unit={time_unit!r} (--time-unit) would be "
                             "ignored, so it is refused.")
        fitted, report, notes = _fit(model, fmt, file, time_unit, observation_end, cohort,
                                     conf_type, options, codec)
    except InputError as exc:
        raise exc.with_source(source) from None
    fitted.input_format_ = fmt
    fitted.read_report_ = report
    fitted.notes_ = notes
    return fitted


def _fit(model: str, fmt: str, file: Path, time_unit: str | None,
         observation_end: str | None, cohort: str | None, conf_type: str,
         options: dict[str, Any], encoding: str = "utf-8"
         ) -> tuple[Any, ReadReport | None, list[str]]:
    notes: list[str] = []
    if fmt == "subscriptions":
        period = time_unit or "month"
        subs = read_subscriptions(file, period=period, observation_end=observation_end,
                                  encoding=encoding,
                                  **{k: v for k, v in options.items() if k != "returns"})
        report = subs.attrs["report"]
        if model == "km":
            return (KaplanMeier().fit(subscription_durations(subs), conf_type=conf_type),
                    report, notes)
        table = subscription_survivors(subs, by=cohort)
        if cohort is not None:
            return compare_cohorts(table, by=cohort), report, notes
        fitted = SBG().fit(table)
        if len(fitted.cohorts_) > 1:
            notes.append(f"{len(fitted.cohorts_)} start-{period} cohorts pooled (one alpha, "
                         "beta for all); cohort= (--cohort plan, ...) compares groups")
        return fitted, report, notes
    if model == "sbg":
        if cohort is not None and cohort.lower() != "cohort":
            raw = pd.read_csv(file, dtype=str, encoding=encoding)
            if cohort not in raw.columns:
                raise InputError(f"no column {cohort!r} to group cohorts by; the file has "
                                 f"{', '.join(map(str, raw.columns))}.")
            return compare_cohorts(raw, by=cohort, period=time_unit), None, notes
        table = read_survivors(file, encoding)
        table.attrs["time_unit"] = time_unit
        if cohort is not None:
            return compare_cohorts(table, by="cohort", period=time_unit), None, notes
        fitted = SBG().fit(table, period=time_unit)
        if len(fitted.cohorts_) > 1:
            notes.append(f"{len(fitted.cohorts_)} cohorts pooled ({', '.join(fitted.cohorts_)}; "
                         "one alpha, beta for all); cohort='cohort' (--cohort cohort) fits "
                         "each and tests whether they differ")
        _note_unit(notes, fitted.time_unit_, "one renewal period")
        return fitted, None, notes
    if model == "bgbb":
        fitted = BGBB().fit(read_bgbb(file, encoding), time_unit=time_unit)
        _note_unit(notes, fitted.time_unit_, "one opportunity")
        return fitted, None, notes
    if model == "km":
        fitted = KaplanMeier().fit(read_durations(file, encoding), conf_type=conf_type,
                                   time_unit=time_unit)
        _note_unit(notes, fitted.time_unit_, "the durations")
        return fitted, None, notes
    report = None
    if fmt == "transactions":
        tx = read_transactions(file, observation_end=observation_end, encoding=encoding,
                               **options)
        report = tx.attrs["report"]
        unit = time_unit or "week"
        rfm = summarise_transactions(tx, observation_end=observation_end, time_unit=unit)
    else:
        rfm = read_rfm(file, encoding)
        rfm.attrs["time_unit"] = time_unit
    if model == "gammagamma":
        if "monetary_value" not in rfm.columns:
            raise InputError("the Gamma-Gamma model needs spend: an 'amount' column (or "
                             "quantity and unit_price) in a transaction log or "
                             "'monetary_value' in an RFM summary.")
        if fmt == "transactions":
            _check_repeat_spend(rfm, tx)
        else:
            _check_rfm_spend(rfm, file)
        return GammaGamma().fit(rfm), report, notes
    fitted = {"bgnbd": BGNBD, "mbgnbd": MBGNBD, "paretonbd": ParetoNBD}[model]().fit(rfm)
    if fmt == "rfm":
        _note_unit(notes, fitted.time_unit_, "recency and T")
    return fitted, report, notes


def _note_unit(notes: list[str], unit: str | None, what: str) -> None:
    if unit is None:
        notes.append(f"time unit unknown: state the unit of {what} with time_unit= "
                     "(--time-unit) to bridge this fit into a scenario or score a horizon")


def _check_repeat_spend(rfm: pd.DataFrame, tx: pd.DataFrame) -> None:
    """A repeat buyer whose repeat purchases are worth 0: name her and her lines."""
    zero = rfm[(rfm["frequency"] > 0) & ~(rfm["monetary_value"] > 0)]
    if zero.empty:
        return
    cid = zero["customer_id"].iloc[0]
    mine = tx[tx["customer_id"] == cid]
    first_day = mine["date"].dt.normalize().min()
    repeat = mine[mine["date"].dt.normalize() > first_day]
    lines = ", ".join(str(int(r) + 1) for r in repeat["source_row"])
    column = tx.attrs.get("value_column", "amount")
    more = f" (and {len(zero) - 1} more customers)" if len(zero) > 1 else ""
    raise InputError(
        f"customer {cid!r}: the repeat purchases on lines {lines} have {column!r} 0, so the "
        f"mean repeat spend is 0{more}; the Gamma-Gamma model needs a spend > 0 for every "
        "customer with repeat purchases: remove such customers (or their zero-value lines) "
        "or fit only the purchase model.")


def _check_rfm_spend(rfm: pd.DataFrame, file: Path) -> None:
    zero = np.flatnonzero(((rfm["frequency"] > 0) & ~(rfm["monetary_value"] > 0)).to_numpy())
    if zero.size:
        i = int(zero[0])
        raise InputError(f"row {i + 1} (line {i + 2}), column 'monetary_value': customer "
                         f"{rfm['customer_id'].iloc[i]!r} has frequency "
                         f"{rfm['frequency'].iloc[i]} but mean repeat spend 0; the "
                         "Gamma-Gamma model needs monetary_value > 0 when frequency > 0.")
