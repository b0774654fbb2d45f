"""Points: per-point arrays apart from per-batch metadata; slicing never cuts metadata."""

import pytest
import torch

from physopt.problems import Points


def _pts(n=6):
    x = torch.arange(2.0 * n).reshape(n, 2)
    return Points(x, {"normal": -x}, {"dims": torch.tensor([3, 1])})


def test_take_and_prefix_cut_fields_and_keep_metadata():
    p = _pts()
    q = p.take(slice(1, 3))
    assert q.n == 2 and torch.equal(q["normal"], -p.x[1:3])
    assert torch.equal(q.meta["dims"], torch.tensor([3, 1]))  # whole, although it has 2 rows like q
    assert p.prefix(100) is p and p.prefix(4).n == 4


def test_mapping_view_holds_x_and_fields_only():
    p = _pts()
    assert set(p) == {"x", "normal"} and len(p) == 2
    with pytest.raises(KeyError, match=r"it is metadata: batch.meta\['dims'\]"):
        p["dims"]


def test_bad_shapes_and_key_clashes_are_refused():
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="one row per point"):
        Points(x, {"w": torch.zeros(3, 1)})
    with pytest.raises(ValueError, match=r"shape \(n, dim\)"):
        Points(torch.zeros(4))
    with pytest.raises(ValueError, match="both per-point fields and metadata"):
        Points(x, {"a": torch.zeros(4)}, {"a": torch.zeros(2)})


def test_state_round_trip_and_old_flat_checkpoints():
    p = _pts()
    q = Points.from_state(p.state())
    assert torch.equal(q.x, p.x) and torch.equal(q.meta["dims"], p.meta["dims"])
    old = {"x": p.x, "normal": -p.x, "dims": torch.tensor([3, 1])}  # the dict batches of earlier versions
    r = Points.from_state(old)
    assert set(r.fields) == {"normal"} and set(r.meta) == {"dims"}
