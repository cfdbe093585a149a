"""From data to a scenario: fitted models to segments (the bridge), service effects
estimated from customer histories or by simulated moments, and holdout validation."""

from .baseline import BaselineCalibration, calibrate_baseline
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

__all__ = ["EXPERIENCES", "BaselineCalibration", "Calibration", "EffectsEstimate",
           "HoldoutValidation", "apply_effects", "calibrate_baseline", "calibrate_effects",
           "conditional_expectations", "estimate_effects", "experience_covariates",
           "holdout_metrics", "observed_curve", "scenario_from_fits", "segment_from_fits",
           "segments_from_covariates", "tracking", "validate_holdout"]
