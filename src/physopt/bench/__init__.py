"""Benchmark grids and leaderboards: ``physopt bench`` from Python.

:func:`run_grid` runs problems × optimizers × constraint formulations × seeds, one ``physopt
solve`` subprocess per cell, resumable, and writes ``results.json``, ``leaderboard.md``,
``leaderboard.html`` and plots. :func:`render_markdown` / :func:`render_html` rebuild the
leaderboard from a ``results.json`` document; :func:`rebuild` rewrites an output directory's
pages (e.g. with a new peers file) without running anything; :func:`merge_results` puts the cells of
a rerun of some problems into an older ``results.json``. See docs/bench.md.
"""

from ._bench import BenchResult, rebuild, run_grid
from ._grid import DEFAULT_GRID, DEFAULT_TIME_BUDGET, Block, Cell, GridSettings
from ._html import render_html
from ._leaderboard import render_markdown
from ._merge import merge_into, merge_results
from ._results import load_peers

__all__ = [
    "DEFAULT_GRID",
    "DEFAULT_TIME_BUDGET",
    "BenchResult",
    "Block",
    "Cell",
    "GridSettings",
    "load_peers",
    "merge_into",
    "merge_results",
    "rebuild",
    "render_html",
    "render_markdown",
    "run_grid",
]
