"""No tensor is created without a device on the training path (sampling, loss, steps, evaluation).

Without a GPU here, device bugs cannot show up as a CPU/CUDA mismatch; instead a torch function
mode records every factory call (``torch.tensor``, ``torch.zeros``, ``torch.rand``, ...) made from
physopt's own code without an explicit ``device``, which is what would put a tensor on the CPU
during a CUDA run. Models are built on the CPU by design (:class:`physopt.runtime.Runtime`) and
moved, so building is outside the audit; optimizers are audited too.
"""

import sys
from pathlib import Path

import pytest
import torch
from torch.overrides import TorchFunctionMode

import physopt
from physopt.config import build, make_optimizer, resolve
from physopt.training import Trainer

_FACTORIES = {torch.tensor, torch.as_tensor, torch.zeros, torch.ones, torch.full, torch.empty, torch.rand,
              torch.randn, torch.randint, torch.randperm, torch.arange, torch.linspace, torch.eye}
_SRC = str(Path(physopt.__file__).parent)


class _Audit(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.missing: set[str] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _FACTORIES and kwargs.get("device") is None:
            frame = sys._getframe(1)
            while frame is not None and not frame.f_code.co_filename.startswith(_SRC):
                frame = frame.f_back  # the innermost caller in physopt's own code, if any
            if frame is not None:
                self.missing.add(f"{func.__name__} at {Path(frame.f_code.co_filename).name}:{frame.f_lineno}")
        return func(*args, **kwargs)


def test_the_audit_sees_a_factory_call_without_device():
    with _Audit() as audit:
        physopt.problems.value_at(2.0, torch.zeros(3, 1))  # device taken from x: fine
    assert not audit.missing
    with _Audit() as audit:
        exec(compile("import torch\ntorch.zeros(2)", f"{_SRC}/fake.py", "exec"))
    assert audit.missing == {"zeros at fake.py:2"}


_SLOW = pytest.mark.slow  # 10-20 s each under the audit's function mode


@pytest.mark.parametrize(("problem", "sets"), [
    ("burgers", ["optim.switch_at=3", "model.depth=2", "sampler.sizes.pde=64"]),
    ("poisson2d", ["sampler.method=rad", "sampler.resample_every=2", "sampler.candidates=300",
                   "sampler.sizes.pde=200", "optim.switch_at=3"]),
    ("allen-cahn", ["causal.epsilon=1.0", "sampler.method=sobol", "sampler.resample_every=0", "optim.name=adam"]),
    pytest.param("quantum-well", ["sampler.sizes.pde=200"], marks=_SLOW),
    ("poisson-nd", ["problem.dim=6", "sdgd.dims=2", "optim.name=engd", "model.width=8", "model.depth=2"]),
    pytest.param("kovasznay", ["constraints=alm", "optim.name=adam", "sampler.sizes.pde=200",
                               "sampler.sizes.bc=100"], marks=_SLOW),
    ("poisson2d", ["method=wos", "wos.walks=4", "optim.name=adam", "sampler.sizes.pde=32"]),
    pytest.param("diffusion-reaction", ["constraints=hard-moe", "moe.experts=2", "optim.name=adam",
                                        "sampler.sizes.pde=200"], marks=_SLOW),
])
def test_training_steps_create_tensors_on_the_runtime_device(problem, sets):
    cfg = resolve(problem, overrides=[*sets, "steps=6", "log_every=2", "eval_every=3"])
    b = build(cfg)
    trainer = Trainer(model=b.model, objective=b.objective, sampler=b.sampler, phases=b.phases,
                      make_optimizer=make_optimizer, params=b.params, steps=cfg.steps, log_every=2, eval_every=3)
    with _Audit() as audit:
        trainer.run()
    assert not audit.missing, sorted(audit.missing)


@pytest.mark.parametrize("kind", sorted(physopt.models.OPERATORS))
def test_operator_training_creates_tensors_on_the_runtime_device(kind, tmp_path):
    import numpy as np

    from physopt._learn import _errors
    from physopt.config import build_learn, resolve_learn
    from physopt.models import multitask_data
    from physopt.operators import OperatorData

    grid = (16,) if 1 in physopt.models.OPERATORS[kind].dims else (8, 8)  # 2-D-only kinds (dgno) get a 2-D grid
    x = np.random.default_rng(0).normal(size=(12, 1, *grid))
    data = OperatorData(x, np.cumsum(x, axis=-1) / 16)
    if 1 not in physopt.models.OPERATORS[kind].dims:  # 2-D only (hc-moe): a positive coefficient on a 10x10 grid
        a = np.exp(np.random.default_rng(0).normal(size=(12, 1, 10, 10)))
        data = OperatorData(a, np.cumsum(np.cumsum(a, axis=-1), axis=-2) / 100)
    if kind == "mtdeeponet":  # its inputs carry mask and task channels (models/_mtdeeponet.py)
        data = multitask_data([data.take(slice(0, 6)), OperatorData(x[6:], -x[6:])])
    data.save(tmp_path / "d.npz")
    cfg = resolve_learn(str(tmp_path / "d.npz"), overrides=[f"model.kind={kind}", "epochs=2", "batch_size=4"])
    b = build_learn(cfg)
    trainer = Trainer(model=b.model, objective=b.loss, sampler=b.batches, phases=b.phases,
                      make_optimizer=make_optimizer, params={}, steps=b.steps, log_every=2, eval_every=3)
    with _Audit() as audit:
        trainer.run()
        _errors(b.model, b.splits.val, b.runtime, 4)
    assert not audit.missing, sorted(audit.missing)
