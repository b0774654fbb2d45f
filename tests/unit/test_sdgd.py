"""SDGD: the sampled Laplacian is the unbiased (d/k)-scaled partial sum, only k second derivatives
enter the graph, the dimensions come from the checkpointed sampler generator, and misuse is refused.

Tolerances: float64 throughout; the sampled and full Laplacians of a quadratic are sums of a few
O(1) numbers, so 1e-12 covers rounding while any wrong scale or index is O(1)."""

import copy

import pytest
import torch

from physopt.config import ConfigError, RunConfig, SamplerConfig, SdgdConfig, build, make_optimizer, resolve
from physopt.problems import get, ops
from physopt.training import SampledDims, Trainer


def _quadratic(d, seed=0):
    a = torch.rand(d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + 0.5
    x = torch.randn(5, d, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64).requires_grad_(True)
    return a, x, (a * x**2).sum(1, keepdim=True)  # Δu = 2 Σ a_i, ∂²u/∂x_i² = 2 a_i


def test_sampled_laplacian_is_the_scaled_partial_sum():
    d = 12
    a, x, u = _quadratic(d)
    dims = torch.tensor([3, 7, 0])
    got = ops.laplacian(u, x, dims=dims)
    assert torch.allclose(got, torch.full_like(got, d / 3 * 2 * float(a[dims].sum())), rtol=0, atol=1e-12)
    # Every single dimension drawn once: the average is the full Laplacian (unbiasedness, exactly).
    mean = sum(ops.laplacian(u, x, dims=torch.tensor([i])) for i in range(d)) / d
    assert torch.allclose(mean, ops.laplacian(u, x), rtol=0, atol=1e-12)
    # With axes, dims index positions in axes.
    got = ops.laplacian(u, x, axes=[2, 5], dims=torch.tensor([1]))
    assert torch.allclose(got, torch.full_like(got, 2 * 2 * float(a[5])), rtol=0, atol=1e-12)


@pytest.mark.parametrize("dims", [torch.tensor([], dtype=torch.long), torch.tensor([12]), torch.tensor([-1])])
def test_bad_sampled_dims_raise(dims):
    _, x, u = _quadratic(12)
    with pytest.raises(ValueError, match="sampled dims"):
        ops.laplacian(u, x, dims=dims)


def _saved_bytes(fn):
    """Bytes of the distinct tensors autograd keeps for the backward pass while ``fn`` runs."""
    seen = {}

    def pack(t):
        seen[(t.untyped_storage().data_ptr(), t.dtype)] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(seen.values())


def test_graph_memory_grows_with_k_not_d():
    torch.manual_seed(0)
    d = 64
    net = torch.nn.Sequential(torch.nn.Linear(d, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(),
                              torch.nn.Linear(64, 1)).double()
    x = torch.randn(50, d, dtype=torch.float64).requires_grad_(True)
    full = _saved_bytes(lambda: ops.laplacian(net(x), x))
    two = _saved_bytes(lambda: ops.laplacian(net(x), x, dims=torch.tensor([1, 9])))
    four = _saved_bytes(lambda: ops.laplacian(net(x), x, dims=torch.tensor([1, 9, 20, 33])))
    # Each sampled second derivative adds one backward graph of the same size; the first derivative
    # and the forward pass are shared. So k = 2 keeps well under a tenth of what d = 64 keeps, and
    # going from k = 2 to 4 adds about as much as 2 more dimensions (not a multiple of d).
    assert two < full / 10, (two, full)
    assert two < four < 2 * two, (two, four)


def test_sampled_dims_condition_draws_from_the_given_generator_and_checks_use():
    problem = get("poisson-nd", dim=20)
    cond = SampledDims(problem.conditions["pde"].fn, k=4, total=20)
    b1 = cond.sample(problem.domain, 8, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    b2 = cond.sample(problem.domain, 8, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    assert torch.equal(b1.meta["dims"], b2.meta["dims"]) and b1.meta["dims"].unique().numel() == 4
    model = torch.nn.Linear(20, 1).double()
    assert cond.residual(model, b1, {}).shape == (8, 1)
    ignores = SampledDims(lambda x, u, params: ops.laplacian(u, x), k=4, total=20)
    with pytest.raises(ValueError, match="never read"):
        ignores.residual(model, b1, {})
    with pytest.raises(ValueError, match="1 <= dims <= 20"):
        SampledDims(problem.conditions["pde"].fn, k=21, total=20)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [({"sdgd": SdgdConfig(dims=4)}, "resample_every"),
     ({"sdgd": SdgdConfig(dims=4), "method": "ritz", "sampler": SamplerConfig(resample_every=1)}, "method pinn"),
     ({"sdgd": SdgdConfig(dims=-1), "sampler": SamplerConfig(resample_every=1)}, "dims >= 1"),
     ({"sdgd": SdgdConfig(dims=40), "sampler": SamplerConfig(resample_every=1)}, "1 <= dims <= 20")],
)
def test_build_refuses_bad_sdgd_settings(overrides, match):
    cfg = RunConfig(problem="poisson-nd", problem_options={"dim": 20}, constraints="hard", **overrides)
    with pytest.raises(ConfigError, match=match):
        build(cfg)


SMALL_ND = ["problem.dim=30", "sdgd.dims=3", "sampler.resample_every=1", "model.width=16", "model.depth=2",
            "sampler.sizes.pde=20"]


def _trainer(steps):
    cfg = resolve("poisson-nd", flags={"constraints": "hard", "optim.name": "adam", "steps": steps, "seed": 2},
                  overrides=SMALL_ND)
    b = build(cfg)
    return Trainer(model=b.model, objective=b.objective, sampler=b.sampler, phases=b.phases,
                   make_optimizer=make_optimizer, params=b.params, steps=steps)


def test_sdgd_run_resumes_exactly():
    full = _trainer(12)
    full.run()
    part = _trainer(7)
    part.run()
    state = copy.deepcopy(part.state_dict())
    resumed = _trainer(12)
    resumed.load_state_dict(state)
    resumed.run()
    # Bit for bit: the dimensions of steps 8-12 come from the restored sampler generator.
    assert not torch.equal(state["sampler"]["batch"]["pde"]["meta"]["dims"],
                           resumed.sampler.batch(12)["pde"].meta["dims"])
    for (k, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


def test_poisson_nd_defaults_train_with_sdgd():
    # The defaults must stay a valid SDGD run (resampling every step, a hard ansatz) at any dim >= 5.
    b = build(resolve("poisson-nd", overrides=["problem.dim=20"]))
    pde = b.objective.problem.conditions["pde"]
    assert isinstance(pde, SampledDims) and (pde.k, pde.total) == (5, 20)
    assert "bc" not in b.objective.trained


@pytest.mark.slow
def test_poisson_nd_defaults_reach_1e_2_at_d_100():
    import physopt

    r = physopt.solve("poisson-nd", steps=3000, seed=0, overrides=["threads=1", "eval_every=1000"])
    # Issue 7's goal. Measured 8.5e-3 at 3000 steps (`python benchmarks/sdgd.py train --dim 100 --k 5
    # --steps 3000`); Adam with the same net stops at the affine-fit floor 1.6e-2 (`benchmarks/sdgd.py
    # floor`), so this fails if the recipe regresses to it. The 15 % margin is for rounding-level
    # differences between machines, which change a 3000-step stochastic trajectory.
    assert r.metrics["rel_l2"] < 1e-2, r.metrics["rel_l2"]


@pytest.mark.slow
def test_sdgd_trains_poisson_nd_at_d_1000():
    import physopt

    r = physopt.solve("poisson-nd", steps=300, seed=0, overrides=["problem.dim=1000", "threads=1", "eval_every=100"])
    errors = [h["rel_l2"] for h in r.history if "rel_l2" in h]
    # The defaults at d = 1000 (5 of 1000 dimensions per step): an untrained net is O(1) wrong and the
    # error falls to 3.3e-3 after 300 steps (`python benchmarks/sdgd.py train --dim 1000 --k 5 --steps 500
    # --set eval_every=100`: 4.1e-2, 5.4e-3, 3.3e-3, 2.8e-3, 2.4e-3 at steps 100-500). 2e-2 (6x) leaves room
    # for rounding-level differences between machines but fails if the sampled Laplacian were mis-scaled or
    # the recipe fell back to Adam (4.3e-2 after 300 steps, docs/methods.md).
    assert errors[-1] < 2e-2, errors
