"""physopt.bench.merge_results: a rerun of some problems' cells put into an older results.json."""

from __future__ import annotations

import copy
import json
import statistics
from pathlib import Path

import pytest

from physopt.bench import merge_into, merge_results, render_markdown

ROOT = Path(__file__).resolve().parents[2]
BASE = json.loads((ROOT / "docs" / "data" / "bench.json").read_text())


def _rerun_of(name: str, errors: list[float]) -> dict:
    """A results.json of a grid over ``name``'s default group alone, with the given errors per seed."""
    doc = copy.deepcopy(BASE)
    cells = [c for c in doc["cells"] if c["problem"] == name]
    group = (cells[0]["optimizer"], cells[0]["constraints"])
    cells = [c for c in cells if (c["optimizer"], c["constraints"]) == group]
    for c, e in zip(cells, errors, strict=True):
        c["rel_l2"] = e
    doc["cells"], doc["problems"] = cells, {name: doc["problems"][name]}
    doc["command"], doc["created"] = "physopt bench --problems " + name, "2026-12-07 16:00 UTC"
    return doc


def test_nothing_to_merge_gives_the_base_page_back():
    assert render_markdown(merge_results(BASE, [])) == render_markdown(BASE)


def test_rerun_cells_replace_the_old_ones_and_only_their_problems_rows_change(tmp_path):
    errors = [1e-3, 2e-3, 4e-3]
    before = copy.deepcopy(BASE)
    merged = merge_results(BASE, [_rerun_of("kovasznay", errors)])
    assert len(merged["cells"]) == len(BASE["cells"])  # replaced, not appended
    [row] = [r for r in merged["problems"]["kovasznay"]["rows"] if r["optimizer"] == "adam+ssbroyden"]
    assert row["rel_l2_mean"] == pytest.approx(statistics.fmean(errors), rel=1e-15)  # the same float sums
    assert row["rel_l2_std"] == pytest.approx(statistics.stdev(errors), rel=1e-15)
    for name in BASE["problems"]:
        if name != "kovasznay":
            assert merged["problems"][name]["rows"] == BASE["problems"][name]["rows"], name
    new = {"command": "physopt bench --problems kovasznay", "created": "2026-12-07 16:00 UTC",
           "problems": ["kovasznay"]}
    assert merged["updates"] == [*BASE.get("updates", []), new]
    assert "Rerun later for kovasznay: `physopt bench --problems kovasznay`" in render_markdown(merged)
    assert BASE == before  # the base document is untouched
    (tmp_path / "u.json").write_text(json.dumps(_rerun_of("kovasznay", errors)))
    written = merge_into(tmp_path / "out", ROOT / "docs" / "data" / "bench.json", [tmp_path / "u.json"])
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == written


def test_a_rerun_with_other_settings_is_refused():
    other = _rerun_of("kovasznay", [1e-3, 2e-3, 4e-3])
    other["settings"] = {**other["settings"], "time_budget": 20.0}
    with pytest.raises(ValueError, match="time_budget = 20.0"):
        merge_results(BASE, [other])


def test_dropped_groups_leave_the_page():
    groups = {(r["optimizer"], r["constraints"]) for r in BASE["problems"]["poisson2d"]["rows"]}
    gone = sorted(groups)[0]
    merged = merge_results(BASE, [], drop=[("poisson2d", *gone)])
    assert {(r["optimizer"], r["constraints"]) for r in merged["problems"]["poisson2d"]["rows"]} == groups - {gone}
    assert not [c for c in merged["cells"] if (c["problem"], c["optimizer"], c["constraints"]) == ("poisson2d", *gone)]
