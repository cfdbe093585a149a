"""The claims catalogue: trade-press retention statistics reproduced with the model, each
with its source, evidence grade and the assumptions that make it hold."""

from .car_wash import PUBLISHED, car_wash_experiment, car_wash_scenario
from .entries import (
    CLAIMS,
    REFERENCE_REPURCHASE,
    catalogue,
    clv_ratio,
    implied_repurchase,
    load_claims,
    log_hazard_effect,
    margin_growth_needed,
    reproduce,
    repurchase_at_next_renewal,
    to_records,
)

__all__ = ["CLAIMS", "PUBLISHED", "REFERENCE_REPURCHASE", "car_wash_experiment",
           "car_wash_scenario", "catalogue", "clv_ratio", "implied_repurchase", "load_claims",
           "log_hazard_effect", "margin_growth_needed", "repurchase_at_next_renewal",
           "reproduce", "to_records"]
