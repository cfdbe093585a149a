"""The claims catalogue: trade-press retention statistics, each a function of its assumptions
(knobs), reproduced with the model, with its source, evidence grade, a status (holds, does not
hold, by construction, calibration) and the region of assumptions in which it holds.

>>> from retention_sim import claims
>>> r = claims.reproduce("reichheld", retention=0.9, discount=0.08, margin_growth=0.05)  # doctest: +SKIP
"""

from .car_wash import (
    KUZ_ACCELERATION,
    PUBLISHED,
    acceleration_on_redeemed_cards,
    car_wash_experiment,
    car_wash_scenario,
    days_to_complete,
)
from .entries import (
    CLAIMS,
    RECORD_KEYS,
    STATUSES,
    Entry,
    Knob,
    catalogue,
    entry,
    load_claims,
    reproduce,
    to_records,
)
from .figures import plot_reichheld, plot_tarp_funnel
from .formulas import (
    REFERENCE_REPURCHASE,
    clv_ratio,
    holds_region,
    implied_repurchase,
    log_hazard_effect,
    margin_growth_needed,
    max_start_retention,
    next_retention,
    profit_uplift,
    repurchase_at_next_renewal,
    retention_for_uplift,
    retention_root,
)
from .reichheld import PUBLISHED_BAND, reichheld_engine, retention_cohort
from .tarp import TARP_PUBLISHED, TARP_SCENARIO, tarp_experiment, tarp_funnel

__all__ = ["CLAIMS", "KUZ_ACCELERATION", "PUBLISHED", "PUBLISHED_BAND", "RECORD_KEYS",
           "REFERENCE_REPURCHASE", "STATUSES", "TARP_PUBLISHED", "TARP_SCENARIO", "Entry", "Knob",
           "acceleration_on_redeemed_cards", "car_wash_experiment", "car_wash_scenario",
           "catalogue", "clv_ratio", "days_to_complete", "entry", "holds_region",
           "implied_repurchase", "load_claims", "log_hazard_effect", "margin_growth_needed",
           "max_start_retention", "next_retention", "plot_reichheld", "plot_tarp_funnel",
           "profit_uplift", "reichheld_engine", "repurchase_at_next_renewal", "reproduce",
           "retention_cohort", "retention_for_uplift", "retention_root", "tarp_experiment",
           "tarp_funnel", "to_records"]
