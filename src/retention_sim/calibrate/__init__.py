"""From data to a scenario: fitted models to segments (the bridge), service effects
estimated from customer histories or by simulated moments, and holdout validation."""

from .bridge import scenario_from_fits, segment_from_fits, segments_from_covariates
from .effects import EXPERIENCES, EffectsEstimate, apply_effects, estimate_effects, experience_covariates
from .holdout import (
    HoldoutValidation,
    conditional_expectations,
    holdout_metrics,
    tracking,
    validate_holdout,
)
from .moments import Calibration, calibrate_effects, observed_curve

__all__ = ["EXPERIENCES", "EffectsEstimate", "apply_effects", "estimate_effects",
           "experience_covariates", "segments_from_covariates", "Calibration",
           "HoldoutValidation", "calibrate_effects", "conditional_expectations",
           "holdout_metrics", "observed_curve", "scenario_from_fits", "segment_from_fits",
           "tracking", "validate_holdout"]
