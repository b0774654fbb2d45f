"""Unknown fields a(x): representations, the regulariser, Parameters, the report and the zoo entry."""

import json
import math

import pytest
import torch

import physopt
from physopt.problems import (
    FieldGrid,
    FieldNetwork,
    FieldRegularizer,
    Points,
    Problem,
    Rectangle,
    Residual,
    UnknownField,
    ops,
)
from physopt.problems.zoo._field_inverse import field_truth, solution, source
from physopt.training import Parameters
from physopt.training._fields import build_field

BOUNDS = ((0.0, -1.0), (2.0, 1.0))


def _bilinear(x):  # exactly representable by a bilinear grid
    return 1.0 + 2.0 * x[:, 0:1] - 3.0 * x[:, 1:2] + 0.5 * x[:, 0:1] * x[:, 1:2]


def _grid_with(fn, shape=(5, 9)):
    f = build_field(UnknownField(1.0, transform="identity", representation=FieldGrid(shape)), bounds=BOUNDS,
                    generator=torch.Generator().manual_seed(0), dtype=torch.float64, device=torch.device("cpu"))
    xs, ys = torch.linspace(0.0, 2.0, shape[0], dtype=torch.float64), torch.linspace(-1.0, 1.0, shape[1],
                                                                                   dtype=torch.float64)
    nodes = torch.cartesian_prod(xs, ys)
    with torch.no_grad():  # a = ρ₀ + ρ with ρ₀ = 1 (identity): store fn − 1 at the nodes
        f.raw.values.copy_((fn(nodes) - 1.0).reshape(shape))
    return f


def test_grid_interpolation_is_exact_for_bilinear_fields_and_their_gradients():
    f = _grid_with(_bilinear)
    x = (torch.rand(200, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
         * torch.tensor([2.0, 2.0], dtype=torch.float64) - torch.tensor([0.0, 1.0], dtype=torch.float64))
    x = torch.cat([x, torch.tensor([[2.0, 1.0], [0.0, -1.0]], dtype=torch.float64)])  # the far corner's cell too
    x.requires_grad_(True)
    a = f(x)
    g = ops.grad(a, x)
    exact = torch.cat([2.0 + 0.5 * x[:, 1:2], -3.0 + 0.5 * x[:, 0:1]], dim=1)
    assert torch.allclose(a, _bilinear(x), atol=1e-12)  # rounding only: bilinear is in the grid's span
    assert torch.allclose(g, exact, atol=1e-12)


@pytest.mark.parametrize("rep", [FieldNetwork(width=8, depth=2), FieldGrid((4, 4))])
def test_fields_start_at_the_constant_initial_value_and_keep_their_bound(rep):
    spec = UnknownField(0.3, transform="softplus", lower=0.1, representation=rep)
    f = build_field(spec, bounds=BOUNDS, generator=torch.Generator().manual_seed(0), dtype=torch.float64,
                    device=torch.device("cpu"))
    x = torch.rand(50, 2, dtype=torch.float64)
    assert torch.allclose(f(x), torch.full((50, 1), 0.3, dtype=torch.float64), atol=1e-12)
    with torch.no_grad():
        for p in f.parameters():
            p.add_(-100.0)  # far below: softplus keeps a >= lower (= in floating point: softplus underflows)
    assert bool((f(x) >= 0.1).all())


@pytest.mark.parametrize("penalty", ["h1", "tv"])
def test_regulariser_mean_square_is_weight_times_the_penalty(penalty):
    # a = 1 + 2x − 3y (linear): |∇a|² = 13 everywhere.
    f = _grid_with(lambda x: 1.0 + 2.0 * x[:, 0:1] - 3.0 * x[:, 1:2])
    params = Parameters({}, {}, {}, {"a": f})
    reg = FieldRegularizer("a", penalty=penalty, weight=1e-3, eps=0.5)
    batch = Points(torch.rand(64, 2, dtype=torch.float64) * 0.5 + 0.2)
    r = reg.residual(None, batch, params)
    expected = 13.0 if penalty == "h1" else math.sqrt(13.0 + 0.25)
    assert float((r.detach()**2).mean()) == pytest.approx(1e-3 * expected, rel=1e-12)


def test_parameters_train_field_weights_and_give_them_their_own_lr():
    unknown = UnknownField(1.0, representation=FieldGrid((3, 3)), lr=0.05)
    params = Parameters.create(constants={"k": 2.0}, unknowns={}, dtype=torch.float64, device=torch.device("cpu"),
                               fields={"a": unknown}, bounds=BOUNDS, generator=torch.Generator().manual_seed(0))
    shared, own = params.groups()
    assert shared == [] and [p.shape for p in own[0.05]] == [torch.Size([3, 3])]
    assert params.field_parameters()[0] is own[0.05][0]
    assert sorted(params) == ["a", "k"] and callable(params["a"]) and params.snapshot() == {}


def test_bad_field_input_names_what_was_given():
    with pytest.raises(ValueError, match="FieldGrid.shape must be ints >= 2 per input, got \\(1, 4\\)"):
        FieldGrid((1, 4))
    with pytest.raises(ValueError, match="unknown transform 'exp'"):
        UnknownField(1.0, transform="exp")
    with pytest.raises(ValueError, match="unknown field penalty 'l1'"):
        FieldRegularizer("a", penalty="l1")
    with pytest.raises(ValueError, match="FieldGrid.shape \\(4, 4, 4\\) has 3 entries for a field of 2 inputs"):
        Problem(name="p", domain=Rectangle((0, 0), (1, 1)), input_names=("x", "y"), output_names=("u",),
                conditions={"pde": Residual(lambda x, u, p: u)},
                trainable={"a": UnknownField(1.0, representation=FieldGrid((4, 4, 4)))})
    with pytest.raises(ValueError, match="inputs \\(2,\\) out of range for a problem with 2 inputs"):
        UnknownField(1.0, inputs=(2,)).columns(2)


def test_field_inverse_source_is_the_operator_applied_to_the_truth():
    x = torch.rand(100, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
    lhs = -ops.div(field_truth(x) * ops.grad(solution(x), x), x)
    assert torch.allclose(lhs, source(x), atol=1e-12)  # closed form against autograd: rounding only


def test_solve_trains_reports_and_plots_the_field(tmp_path):
    out = tmp_path / "run"
    res = physopt.solve("poisson-field-inverse", steps=5, optimizer="adam", out=out, seed=0,
                        overrides=["problem.sensors=20", "problem.width=4", "problem.depth=1", "threads=1",
                                   "model.width=8", "model.depth=2", "optim.lr=0.01"])
    got = res.report.fields["a"]
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    state = state.get("trainer", state)
    spec = physopt.problems.get("poisson-field-inverse", width=4, depth=1).fields["a"]
    f = build_field(spec, bounds=((0.0, 0.0), (1.0, 1.0)), generator=torch.Generator().manual_seed(0),
                    dtype=torch.float64, device=torch.device("cpu"))
    f.load_state_dict(state["fields"]["a"])
    x = torch.cartesian_prod(torch.linspace(0, 1, 101, dtype=torch.float64), torch.linspace(0, 1, 101,
                                                                                            dtype=torch.float64))
    with torch.no_grad():
        a, true = f(x), field_truth(x)
    assert not torch.allclose(a, torch.ones_like(a))  # 5 Adam steps at lr 1e-2 moved the field off its start
    assert got.rel_l2 == pytest.approx(float((a - true).norm() / true.norm()), rel=1e-10)
    assert got.points == 10201 and got.parametrisation == "a(x) = 0 + softplus(ρ₀ + ρ(x))"
    assert (out / "field.png").exists() and "## Unknown fields" in (out / "report.md").read_text()
    assert json.loads((out / "report.json").read_text())["fields"]["a"]["rel_l2"] == pytest.approx(got.rel_l2)


class _FieldLoss:
    """mean (a(x) − (1 + x))² on fixed points, no network: the grid field alone is trained."""

    varies_per_step = has_duals = False
    x = torch.linspace(0.0, 2.0, 41, dtype=torch.float64)[:, None].expand(41, 2).contiguous()

    def terms(self, model, batch, params): return {"fit": ((params["a"](self.x) - 1 - self.x[:, :1]) ** 2).mean()}, {}
    def loss(self, terms, residuals): return terms["fit"]
    def end_step(self): pass
    def residual(self, *a): raise AssertionError
    def stats(self): return {}
    def state_dict(self): return {}
    def load_state_dict(self, s): pass


class _NoBatches:
    drawn_at, points = 0, {}
    def batch(self, step): return {}
    def adapt(self, step, residual): pass
    def state_dict(self): return {}
    def load_state_dict(self, s): pass


def _field_trainer(steps):
    from physopt.config import make_optimizer
    from physopt.training import Phase, Trainer

    params = Parameters.create(constants={}, unknowns={}, dtype=torch.float64, device=torch.device("cpu"),
                               fields={"a": UnknownField(1.0, transform="identity", representation=FieldGrid((5, 3)),
                                                         lr=0.1)},
                               bounds=BOUNDS, generator=torch.Generator().manual_seed(0))
    return Trainer(model=torch.nn.Linear(1, 1).double(), objective=_FieldLoss(), sampler=_NoBatches(),
                   phases=[Phase("adam", None, 1e-9)], make_optimizer=make_optimizer, params=params,
                   steps=steps, log_every=10, eval_every=10)


def test_a_field_trains_at_its_own_rate_and_a_resumed_trainer_restores_it():
    tr = _field_trainer(300)
    assert [g["lr"] for g in tr.optimizer.param_groups] == [1e-9, 0.1]  # the grid values: their own group
    tr.run()
    a = tr.params["a"](_FieldLoss.x).detach()
    # 1 + x is piecewise linear on the grid's x nodes: Adam at 0.1 fits it (the phase's 1e-9 could not)
    assert torch.allclose(a, 1 + _FieldLoss.x[:, :1], atol=1e-2)
    fresh = _field_trainer(300)
    fresh.load_state_dict(tr.state_dict())
    assert torch.equal(fresh.params["a"](_FieldLoss.x).detach(), a)
