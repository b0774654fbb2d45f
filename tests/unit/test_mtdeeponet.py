"""MT-DeepONet and multitask_data against their definitions: padded sensors are ignored."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from physopt.models import MTDeepONet, OperatorShape, multitask_data
from physopt.operators import OperatorData

GRID = (6, 5)


def _task(seed: int, *, n: int = 3, c_in: int = 1, c_out: int = 1, grid=GRID, periodic=False) -> OperatorData:
    rng = np.random.default_rng(seed)
    return OperatorData(rng.standard_normal((n, c_in, *grid)), rng.standard_normal((n, c_out, *grid)), periodic,
                        f"t{seed}")


def _model(c_in: int = 2, tasks: int = 2, c_out: int = 1, seed: int = 0) -> MTDeepONet:
    shape = OperatorShape(in_channels=c_in + 1 + tasks, out_channels=c_out, grid=GRID, periodic=False)
    return MTDeepONet(shape=shape, tasks=tasks, width=16, depth=2, basis=6,
                      generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_multitask_data_layout():
    first, second = _task(0, n=3, c_in=1), _task(1, n=2, c_in=2, c_out=2)
    geometry = np.zeros(GRID, dtype=bool)
    geometry[1:4, 1:3] = True
    data = multitask_data([first, second], masks=[None, geometry])
    assert data.inputs.shape == (5, 2 + 1 + 2, *GRID) and data.outputs.shape == (5, 2, *GRID)
    assert data.name == "t0+t1" and not data.periodic
    np.testing.assert_array_equal(data.inputs[:3, 0], first.inputs[:, 0])
    np.testing.assert_array_equal(data.inputs[:3, 1], 0.0)  # the channel task 0 lacks is zero-padded
    np.testing.assert_array_equal(data.inputs[:3, 2], 1.0)  # no geometry: every sensor is the task's
    np.testing.assert_array_equal(data.inputs[3:, :2], second.inputs * geometry)
    np.testing.assert_array_equal(data.inputs[3:, 2], np.broadcast_to(geometry, (2, *GRID)))
    np.testing.assert_array_equal(data.inputs[:, 3:, 0, 0], [[1, 0]] * 3 + [[0, 1]] * 2)  # one-hot task
    np.testing.assert_array_equal(data.outputs[:3, 1], 0.0)
    np.testing.assert_array_equal(data.outputs[3:], second.outputs * geometry)


def test_multitask_data_refuses_mismatches():
    with pytest.raises(ValueError, match=r"task 1 is on grid \(6, 4\)"):
        multitask_data([_task(0), _task(1, grid=(6, 4))])
    with pytest.raises(ValueError, match="periodic=True"):
        multitask_data([_task(0), _task(1, periodic=True)])
    with pytest.raises(ValueError, match=r"boolean array of shape \(6, 5\), got float64 of shape \(6, 5\)"):
        multitask_data([_task(0), _task(1)], masks=[None, np.ones(GRID)])
    with pytest.raises(ValueError, match="at least two OperatorData"):
        multitask_data([_task(0)])
    with pytest.raises(ValueError, match="2 masks for 3 tasks"):
        multitask_data([_task(0), _task(1), _task(2)], masks=[None, None])


def test_padded_sensors_do_not_change_the_prediction():
    geometry = np.ones(GRID, dtype=bool)
    geometry[:, 3:] = False
    data = multitask_data([_task(0, c_in=2), _task(1, c_in=2)], masks=[geometry, None])
    model = _model()
    a = torch.from_numpy(data.inputs)
    base = model(a)
    noisy = a.clone()
    outside = torch.from_numpy(~geometry)
    noisy[:3, :2, outside] = torch.randn((3, 2, int(outside.sum())), generator=torch.Generator().manual_seed(1),
                                         dtype=torch.float64) * 100
    torch.testing.assert_close(model(noisy), base, rtol=0, atol=0)  # padded values are multiplied by 0 exactly
    inside = noisy.clone()
    inside[:3, 0, 0, 0] += 1.0  # a sensor of the geometry does matter
    assert not torch.allclose(model(inside)[:3], base[:3])
    assert not torch.allclose(model(a)[:3], model(a[[3, 4, 5]])[:3])  # same inputs aside, the task matters


def test_branch_reads_masked_fields_mask_and_task():
    model = _model(c_in=2, tasks=2)
    data = multitask_data([_task(0, c_in=2), _task(1, c_in=2)])
    a = torch.from_numpy(data.inputs)
    a[:, 2, 0, 0] = 0.0  # one padded sensor
    x = model.branch_input(a)
    fields = (a[:, :2] * a[:, 2:3]).reshape(6, -1)
    torch.testing.assert_close(x, torch.cat([fields, a[:, 2].reshape(6, -1), a[:, 3:, 0, 0]], dim=1), rtol=0, atol=0)
    n = GRID[0] * GRID[1]
    assert model.branch.layers[0].in_features == 3 * n + 2


def test_parameter_count():
    model = _model(c_in=2, tasks=3, c_out=2)
    n, w, p = GRID[0] * GRID[1], 16, 6 * 2
    hidden = w * w + w  # depth 2: one width -> width layer in each network
    branch = (3 * n + 3) * w + w + hidden + w * p + p
    trunk = 2 * w + w + hidden + w * p + p
    assert sum(q.numel() for q in model.parameters()) == branch + trunk + 2


def test_invalid_mask_and_task_channels_raise():
    model = _model()
    a = torch.from_numpy(multitask_data([_task(0, c_in=2), _task(1, c_in=2)]).inputs)
    normalised = a.clone()
    normalised[:, 2] = (normalised[:, 2] - 0.2) / 1.6  # a standardised mask of ones
    with pytest.raises(ValueError, match="mask channel must hold only 0 and 1, got 0.5"):
        model(normalised)
    both = a.clone()
    both[:, 3:] = 1.0
    with pytest.raises(ValueError, match="one-hot"):
        model(both)
    varying = a.clone()
    varying[0, 3, 0, 0] = 0.0
    with pytest.raises(ValueError, match="constant on the grid"):
        model(varying)
    with pytest.raises(ValueError, match=r"needs at least 4 input channels \(fields, mask, tasks\), got 3"):
        MTDeepONet(shape=OperatorShape(in_channels=3, out_channels=1, grid=GRID, periodic=False), tasks=2,
                   generator=torch.Generator())


def test_the_benchmark_factory_stores_train_val_test_with_the_tasks_in_order():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "mtdeeponet_tasks.py"
    spec = importlib.util.spec_from_file_location("mtdeeponet_tasks", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    both = bench.make(task="both", n_train=3, n_val=2, n_test=2, resolution=16)
    singles = [bench.make(task=t, n_train=3, n_val=2, n_test=2, resolution=16) for t in bench.TASKS]
    assert both.inputs.shape == (14, 1 + 1 + 2, 16) and both.outputs.shape == (14, 1, 16)
    task_of = both.inputs[:, 3, 0].astype(int)  # the one-hot channel of task 1
    np.testing.assert_array_equal(task_of, [0, 1] * 3 + [0, 0, 1, 1] * 2)  # train alternates; val, test in blocks
    assert not np.allclose(singles[0].inputs, singles[1].inputs)  # task i draws with seed + i: no shared inputs
    for i, single in enumerate(singles):
        np.testing.assert_array_equal(both.inputs[task_of == i, 0], single.inputs[:, 0])
        np.testing.assert_array_equal(both.outputs[task_of == i], single.outputs)
    with pytest.raises(ValueError, match="task must be 'both' or one of"):
        bench.make(task="heat")
