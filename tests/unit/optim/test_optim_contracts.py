"""Contracts between physopt.optim and its users: the ClosureOptimizer base, OptimizerStatus, and
param-group defaults taken from the constructors' signatures."""

from __future__ import annotations

import inspect

import pytest
import torch

import physopt.optim as po
from physopt.optim._line_search import LineSearchStatus, strong_wolfe_line_search

F64 = torch.float64
CLOSURE_NAMES = [name for name in po.available() if po.spec(name).needs_closure]
# physopt's own first-order classes build their group defaults with constructor_defaults(locals())
FIRST_ORDER = sorted(
    {po.spec(n).factory for n in po.available() if not po.spec(n).needs_closure
     and isinstance(po.spec(n).factory, type)},  # not the wrappers of torch's Adam/AdamW/SGD
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("cls", FIRST_ORDER, ids=lambda c: c.__name__)
def test_group_defaults_are_exactly_the_constructor_keywords(cls):
    signature = inspect.signature(cls)
    keywords = {n for n, p in signature.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert keywords, "public options must be keyword-only"
    opt = cls([torch.nn.Parameter(torch.zeros(3, 4, dtype=F64))])
    group_keys = set(opt.param_groups[0]) - {"params"}
    if isinstance(opt, po.MatrixOptimizer):
        group_keys -= {"algorithm"}  # the routing tag MatrixOptimizer adds
    assert group_keys == keywords
    defaults = {n: p.default for n, p in signature.parameters.items() if n in keywords}
    for name, value in defaults.items():
        if name != "shape_coeffs":  # ROOT merges the table over ROOT_COEFFS
            assert opt.param_groups[0][name] == value, name


def test_status_enum_values_codes_and_finished():
    S = po.OptimizerStatus
    assert [s.value for s in S] == ["running", "converged: gradient tolerance", "no progress", "max evaluations"]
    assert [s.code for s in S] == [0, 1, 2, 3]  # checkpoints store these ints: never reorder
    assert all(S.from_code(s.code) is s for s in S)
    assert [s.finished for s in S] == [False, True, True, True]
    assert str(S.NO_PROGRESS) == f"{S.NO_PROGRESS}" == "no progress" and S.RUNNING == "running"
    for bad in (-1, 4, True, 1.0):
        with pytest.raises(ValueError, match="status code"):
            S.from_code(bad)


@pytest.mark.parametrize("name", CLOSURE_NAMES)
def test_closure_optimizers_share_the_base_and_report_enum_statuses(name):
    x = torch.nn.Parameter(torch.tensor([3.0, -2.0], dtype=F64))
    opt = po.build(name, [x], lr=1.0, max_eval=3)
    assert isinstance(opt, po.ClosureOptimizer) and isinstance(opt, torch.optim.Optimizer)
    if po.spec(name).needs_residuals:
        def closure():
            return x * torch.tensor([1.0, 10.0], dtype=F64) - 1.0
    else:
        def closure():
            opt.zero_grad()
            loss = (x - 1.0).square().sum() + 10 * (x[1] + 0.5) ** 4
            loss.backward()
            return loss
    assert opt.status is po.OptimizerStatus.RUNNING
    for _ in range(10):
        opt.step(closure)
    assert opt.status is po.OptimizerStatus.MAX_EVALUATIONS and opt.status.finished and opt.n_evals <= 3
    code = opt.state_dict()["state"][0]["status_code"]
    assert type(code) is int and code == po.OptimizerStatus.MAX_EVALUATIONS.code
    n_evals = opt.n_evals
    opt.step(closure)  # finished: no evaluation
    assert opt.n_evals == n_evals
    opt.invalidate()
    assert opt.status is po.OptimizerStatus.RUNNING


def test_first_order_optimizers_are_not_closure_optimizers():
    for name in po.available():
        if not po.spec(name).needs_closure:
            opt = po.build(name, torch.nn.Linear(3, 3).double(), lr=1e-3)
            assert not isinstance(opt, po.ClosureOptimizer), name


def test_closure_optimizer_refuses_a_missing_closure():
    opt = po.SSBroyden([torch.nn.Parameter(torch.zeros(2, dtype=F64))])
    with pytest.raises(RuntimeError, match="SSBroyden requires a closure"):
        opt.step(None)
    with pytest.raises(ValueError, match="single parameter group"):
        po.LBFGS([{"params": [torch.nn.Parameter(torch.zeros(1))]}, {"params": [torch.nn.Parameter(torch.zeros(1))]}])


def test_line_search_statuses_are_their_own_enum():
    g0 = torch.tensor([2.0], dtype=F64)

    def evaluate(alpha):  # f(x) = x^2 from x = 1 along d = -2
        x = 1.0 - 2.0 * alpha
        return x * x, torch.tensor([2.0 * x], dtype=F64)

    res = strong_wolfe_line_search(evaluate, 1.0, g0, -g0, alpha0=0.5)
    assert res.status is LineSearchStatus.WOLFE and res.status == "wolfe"
    assert strong_wolfe_line_search(evaluate, 1.0, g0, g0).status is LineSearchStatus.FAILED
