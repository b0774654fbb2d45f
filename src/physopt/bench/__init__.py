"""Benchmark grids and leaderboards: ``physopt bench`` from Python.

:func:`run_grid` runs problems × optimizers × constraint formulations × seeds, one ``physopt
solve`` subprocess per cell, resumable, and writes ``results.json``, ``leaderboard.md``,
``leaderboard.html`` and plots. :func:`render_markdown` / :func:`render_html` rebuild the
leaderboard from a ``results.json`` document. See docs/bench.md.
"""

from ._bench import BenchResult, run_grid
from ._grid import DEFAULT_GRID, DEFAULT_TIME_BUDGET, Block, Cell, GridSettings
from ._html import render_html
from ._leaderboard import render_markdown
from ._results import load_peers

__all__ = [
    "DEFAULT_GRID",
    "DEFAULT_TIME_BUDGET",
    "BenchResult",
    "Block",
    "Cell",
    "GridSettings",
    "load_peers",
    "render_html",
    "render_markdown",
    "run_grid",
]
