"""Metrics, reports and plots of finished runs."""

from ._inverse import DataMisfit, FieldResult, UnknownResult, plot_unknowns
from ._metrics import comparable_metrics, l1_rel, max_abs_error, mse, nrmse, rel_l2
from ._operator_report import OperatorReport, TestError
from ._plots import plot_operator_samples, plot_solution, plot_training
from ._report import Report, versions

__all__ = [
    "DataMisfit",
    "FieldResult",
    "OperatorReport",
    "Report",
    "TestError",
    "UnknownResult",
    "comparable_metrics",
    "l1_rel",
    "max_abs_error",
    "mse",
    "nrmse",
    "plot_operator_samples",
    "plot_solution",
    "plot_training",
    "plot_unknowns",
    "rel_l2",
    "versions",
]
