"""From data to a scenario: fitted models to segments (the bridge), service effects by
simulated moments, and holdout validation."""

from .baseline import BaselineCalibration, calibrate_baseline
from .bridge import scenario_from_fits, segment_from_fits
from .holdout import (
    HoldoutValidation,
    conditional_expectations,
    holdout_metrics,
    tracking,
    validate_holdout,
)
from .moments import Calibration, calibrate_effects, observed_curve

__all__ = ["BaselineCalibration", "Calibration", "HoldoutValidation", "calibrate_baseline",
           "calibrate_effects", "conditional_expectations", "holdout_metrics", "observed_curve",
           "scenario_from_fits", "segment_from_fits", "tracking", "validate_holdout"]
