"""Metrics, reports and plots of finished runs."""

from ._metrics import max_abs_error, rel_l2
from ._operator_report import OperatorReport, TestError
from ._plots import plot_operator_samples, plot_solution, plot_training
from ._report import Report, versions

__all__ = [
    "OperatorReport",
    "Report",
    "TestError",
    "max_abs_error",
    "plot_operator_samples",
    "plot_solution",
    "plot_training",
    "rel_l2",
    "versions",
]
