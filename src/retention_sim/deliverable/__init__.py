"""The consultant's deliverable: a client report of a comparison or a run (docs/model.md §2.5).

* :func:`client_report` — from :func:`~retention_sim.experiment.compare_scenarios`;
* :func:`run_report` — from one scenario's :class:`~retention_sim.Result`;
* :class:`ClientReport` — its HTML (a Jinja2 template shipped with the package), tables and
  figures, written as a folder that is complete or absent.
"""

from .analysis import Analysis, analyse, lower_is_better, payback_period, probability_best
from .build import ClientReport, client_report, run_report
from .format import Formatter

__all__ = ["Analysis", "ClientReport", "Formatter", "analyse", "client_report",
           "lower_is_better", "payback_period", "probability_best", "run_report"]
