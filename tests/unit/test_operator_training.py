"""The pieces operator runs add to training: batches, relative losses, schedules, normalisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from physopt.models import Normalized, OperatorShape, grid_points
from physopt.models._local_operator import LocalConfig, build_local
from physopt.training import DatasetBatches, OperatorLoss, Pairs, Phase, grid_gradient, relative_h1, relative_l2


def _data(n=10, grid=(6,)):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, *grid, generator=g, dtype=torch.float64)
    return Pairs(x, 2 * x)


def test_batches_cover_every_sample_once_per_epoch_and_depend_on_the_step_only():
    src = DatasetBatches(_data(10), batch_size=4, seed=1)
    assert src.steps_per_epoch == 3
    for epoch in range(2):
        seen = torch.cat([src.batch(epoch * 3 + k)["data"].inputs for k in range(3)])
        assert seen.shape[0] == 10
        assert torch.equal(seen.sort(0).values.flatten(), _data(10).inputs.sort(0).values.flatten())
    fresh = DatasetBatches(_data(10), batch_size=4, seed=1)
    assert torch.equal(fresh.batch(4)["data"].inputs, src.batch(4)["data"].inputs)  # no state: resume draws the same
    first = [src.batch(k)["data"].inputs for k in range(3)]
    second = [src.batch(3 + k)["data"].inputs for k in range(3)]
    assert not all(torch.equal(a, b) for a, b in zip(first, second, strict=True))  # reshuffled every epoch
    assert src.drawn_at == 5


def test_ranks_take_disjoint_shards():
    ranks = [DatasetBatches(_data(8), batch_size=2, seed=0, rank=r, world_size=2) for r in range(2)]
    shards = [torch.cat([s.batch(k)["data"].inputs for k in range(s.steps_per_epoch)]) for s in ranks]
    both = torch.cat(shards).flatten(1)
    assert both.shape[0] == 8 and torch.unique(both, dim=0).shape[0] == 8


def test_batch_source_state_refuses_another_dataset():
    a = DatasetBatches(_data(10), batch_size=4, seed=1)
    with pytest.raises(ValueError, match="drawn with"):
        DatasetBatches(_data(12), batch_size=4, seed=1).load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DatasetBatches(_data(4), batch_size=0, seed=0)


def test_relative_l2_matches_its_definition_per_sample():
    p, y = torch.randn(3, 2, 5, 4, dtype=torch.float64), torch.randn(3, 2, 5, 4, dtype=torch.float64)
    want = [np.linalg.norm((p[i] - y[i]).numpy()) / np.linalg.norm(y[i].numpy()) for i in range(3)]
    assert np.allclose(relative_l2(p, y).numpy(), want, rtol=1e-14)  # same sums in float64: round-off only


def test_grid_gradient_is_exact_on_linear_and_periodic_sine():
    n = 9
    x = torch.linspace(0, 1, n, dtype=torch.float64)
    (g,) = grid_gradient((3 * x + 1).view(1, 1, n), periodic=False)
    assert torch.allclose(g, torch.full_like(g, 3.0), atol=1e-12)  # differences of a line are exact
    m = 64
    xp = torch.arange(m, dtype=torch.float64) / m
    (gp,) = grid_gradient(torch.sin(2 * math.pi * xp).view(1, 1, m), periodic=True)
    exact = 2 * math.pi * torch.cos(2 * math.pi * xp)
    h = 1 / m  # central differences: error (2π)^3 h^2 / 6 · |cos| at most
    assert (gp.view(-1) - exact).abs().max() <= (2 * math.pi) ** 3 * h ** 2 / 6 + 1e-12


def test_relative_h1_adds_the_gradient_norms():
    y = torch.randn(2, 1, 7, 5, dtype=torch.float64)
    p = y + 0.1 * torch.randn_like(y)
    e = p - y
    def sq(t):
        return t.flatten(1).pow(2).sum(1) + sum(g.flatten(1).pow(2).sum(1) for g in grid_gradient(t, periodic=False))
    want = (sq(e) / sq(y)).sqrt()
    assert torch.allclose(relative_h1(p, y, periodic=False), want, rtol=1e-14)
    assert torch.all(relative_h1(y, y, periodic=False) == 0)


def test_operator_loss_is_the_mean_relative_error_of_the_model():
    data = _data(4)
    loss = OperatorLoss(kind="l2", periodic=False)
    terms, residuals = loss.terms(lambda a: 1.5 * a, {"data": data}, {})
    assert residuals == {} and torch.allclose(terms["data"], torch.tensor(0.25, dtype=torch.float64))  # |1.5-2|/2
    with pytest.raises(ValueError, match="unknown operator loss 'l3'"):
        OperatorLoss(kind="l3", periodic=False)


@pytest.mark.parametrize("schedule", ["cosine", "step"])
def test_schedules_equal_torch_schedulers(schedule):
    steps, lr = 50, 0.1
    phase = Phase("adam", steps, lr, schedule=schedule, decay=0.5, period=7)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps) if schedule == "cosine"
             else torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5))
    for k in range(steps):
        assert math.isclose(phase.lr_at(k), opt.param_groups[0]["lr"], rel_tol=1e-12, abs_tol=1e-15)
        opt.step()
        sched.step()


def test_schedule_arguments_are_checked():
    with pytest.raises(ValueError, match="unknown lr schedule 'linear'"):
        Phase("adam", 10, 0.1, schedule="linear")
    with pytest.raises(ValueError, match="cosine schedule needs a phase with a number of steps"):
        Phase("adam", None, 0.1, schedule="cosine")
    with pytest.raises(ValueError, match="period >= 1"):
        Phase("adam", 10, 0.1, schedule="step")


def test_normalized_predicts_in_physical_units_and_passes_extra_arguments():
    x = torch.randn(20, 2, 8, dtype=torch.float64) * torch.tensor([3.0, 0.1]).view(1, 2, 1) + 5
    mean, std = Normalized.channel_stats(x)
    assert torch.allclose(mean, x.transpose(0, 1).reshape(2, -1).mean(1))
    inner = lambda z, *rest: z[:, :1] + (rest[0] if rest else 0)  # noqa: E731
    class Inner(torch.nn.Module):
        def forward(self, z, *rest):
            return inner(z, *rest)
    m = Normalized(Inner(), in_mean=mean, in_std=std, out_mean=torch.tensor([1.0], dtype=torch.float64),
                   out_std=torch.tensor([2.0], dtype=torch.float64))
    want = ((x[:, :1] - mean[0]) / std[0]) * 2 + 1
    assert torch.allclose(m(x), want)
    assert "in_mean" in m.state_dict()
    with pytest.raises(ValueError, match="in_std must be positive"):
        Normalized(Inner(), in_mean=mean, in_std=torch.zeros(2), out_mean=mean[:1], out_std=std[:1])


def test_local_baseline_runs_on_any_grid_and_is_seeded():
    shape = OperatorShape(in_channels=2, out_channels=3, grid=(5, 4), periodic=False)
    nets = [build_local(LocalConfig(), shape=shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
            for _ in range(2)]
    a = torch.randn(2, 2, 9, 7, dtype=torch.float64)
    assert nets[0](a).shape == (2, 3, 9, 7)
    assert torch.equal(nets[0](a), nets[1](a))
    assert grid_points((2, 3), periodic=False)[-1].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="expected input of shape"):
        nets[0](torch.randn(2, 2, 9))
