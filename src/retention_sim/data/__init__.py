"""Data in: readers that check the files the fitters take, transforms (RFM, cohorts,
survivors), and the data sets shipped with the package."""

from .datasets import (
    CDNOW_CALIBRATION_END,
    load_cdnow_summary,
    load_cdnow_transactions,
    load_donations,
    load_fader_hardie_survivors,
    load_saas_churn,
)
from .histories import CustomerHistory, read_histories
from .parsing import ReadReport
from .readers import (
    calibration_holdout_split,
    cohort_table,
    detect_format,
    read_bgbb,
    read_durations,
    read_rfm,
    read_survivors,
    read_transactions,
    summarise_transactions,
    validate_rfm_arrays,
)
from .subscriptions import read_subscriptions, subscription_durations, subscription_survivors

__all__ = ["CustomerHistory", "read_histories",
    "CDNOW_CALIBRATION_END", "calibration_holdout_split", "cohort_table", "detect_format",
    "load_cdnow_summary", "load_cdnow_transactions", "load_donations", "load_saas_churn",
    "load_fader_hardie_survivors", "read_bgbb", "read_durations", "read_rfm",
    "read_survivors", "read_transactions", "summarise_transactions", "validate_rfm_arrays",
    "ReadReport", "read_subscriptions", "subscription_durations", "subscription_survivors",
]
