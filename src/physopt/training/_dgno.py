"""DGNO training (mostly without labels) and its inverse use (Zang & Koutsourelakis 2025, arXiv 2502.06250).

:class:`DGNOLoss` trains :class:`physopt.models.DGNO` on input fields ``a`` alone, with a few optional
labelled solutions:

    L = w_weak mean_psi R_psi(u(beta), a)^2                weak-form residual (virtual observables)
      + w_rec  mean (a(beta) - a)^2 / std(a)^2             the latent code must also explain a
      + w_kl   KL(q(beta | a) || N(0, I))                  a prior the inverse problem can use
      + w_data rel_l2(u(beta), u)  over labelled rows      (rows whose ``outputs`` are NaN have no label)

with ``beta = mu(a) + sigma(a) eps`` (reparametrised) and fresh Wendland test functions each step
(:class:`WendlandTests`). :func:`dgno_invert` recovers a field from sparse noisy observations of
``u``: the maximum a posteriori latent code

    beta* = argmin  sum_s (u(beta, x_s) - y_s)^2 / (2 s^2) + |beta|^2 / 2 + w_pde / 2 sum_psi R_psi(u(beta), a(beta))^2,

and ``a(beta*)`` is the recovered field (DGNO samples the posterior; the MAP point is what is
implemented here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ._dataset import Pairs
from ._operator_loss import OperatorLoss, relative_l2
from ._weak_form import WendlandTests, darcy_weak_residual

__all__ = ["DGNOLoss", "InverseResult", "dgno_invert"]


class DGNOLoss(OperatorLoss):
    """The loss of the module docstring; ``tests`` draws the test functions, ``seed`` seeds their draws and ``eps``."""

    varies_per_step = True

    def __init__(self, *, tests: WendlandTests, seed: int, weak: float = 1.0, rec: float = 1.0, kl: float = 1e-3,
                 data: float = 1.0) -> None:
        super().__init__(kind="l2", periodic=False)
        for name, w in (("weak", weak), ("rec", rec), ("kl", kl), ("data", data)):
            if not (w >= 0 and w < float("inf")):
                raise ValueError(f"DGNOLoss weight {name} must be a finite number >= 0, got {w!r}")
        self.tests, self.weights = tests, {"weak": weak, "rec": rec, "kl": kl, "data": data}
        self.seed = seed
        self._generator: torch.Generator | None = None

    def _gen(self, device: torch.device) -> torch.Generator:
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
        return self._generator

    def terms(self, model: Any, batch: Mapping[str, Pairs], params: Mapping[str, torch.Tensor]
              ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        a, u_true = batch["data"].inputs, batch["data"].outputs
        gen = self._gen(a.device)
        mu, log_sigma = model.encode(a)
        beta = mu + log_sigma.exp() * torch.randn(mu.shape, generator=gen, dtype=mu.dtype, device=mu.device)
        u = model.decode(beta)
        tests = self.tests.draw(generator=gen, dtype=a.dtype, device=a.device)
        out = {"weak": darcy_weak_residual(u, a, tests).pow(2).mean(),
               "rec": ((model.decode_field(beta) - a) / model.in_std).pow(2).mean(),
               "kl": 0.5 * (mu**2 + (2 * log_sigma).exp() - 1 - 2 * log_sigma).sum(1).mean()}
        labelled = torch.isfinite(u_true.flatten(1)).all(1)
        out["data"] = (relative_l2(u[labelled], u_true[labelled]).mean() if bool(labelled.any())
                       else torch.zeros((), dtype=a.dtype, device=a.device))
        return out, {}

    def loss(self, squares: Mapping[str, torch.Tensor], residuals: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return sum(w * squares[k] for k, w in self.weights.items())

    lagrangian = loss

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "dgno", "generator": None if self._generator is None else self._generator.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("kind") != "dgno":
            raise ValueError(f"the checkpoint trained with loss {state.get('kind')!r}, this run uses 'dgno'")
        if state.get("generator") is not None:
            self._gen(torch.device("cpu")).set_state(state["generator"])


@dataclass(frozen=True)
class InverseResult:
    """What :func:`dgno_invert` returns: the MAP code, its field ``a (1, 1, *grid)`` and solution ``u``."""

    beta: torch.Tensor
    field: torch.Tensor
    solution: torch.Tensor
    misfit: float


def dgno_invert(model: Any, *, points: torch.Tensor, values: torch.Tensor, noise: float, steps: int = 500,
                lr: float = 0.05, pde: float = 1.0, tests: WendlandTests | None = None,
                generator: torch.Generator) -> InverseResult:
    """MAP latent code for observations ``values`` ``(S,)`` of ``u`` at ``points`` ``(S, 2)``, noise std ``noise``."""
    if points.ndim != 2 or points.shape[1] != 2 or values.shape != (points.shape[0],):
        raise ValueError(f"points must be (S, 2) and values (S,), got {tuple(points.shape)} and {tuple(values.shape)}")
    if not noise > 0:
        raise ValueError(f"the noise standard deviation must be > 0, got {noise!r}")
    p = next(model.parameters())
    beta = torch.zeros((1, model.field.layers[0].in_features), dtype=p.dtype, device=p.device, requires_grad=True)
    opt = torch.optim.Adam([beta], lr=lr)
    fixed = None if tests is None or pde == 0 else tests.draw(generator=generator, dtype=p.dtype, device=p.device)
    for _ in range(steps):
        opt.zero_grad()
        misfit = ((model.decode(beta, points)[0] - values) / noise).pow(2).sum() / 2
        objective = misfit + beta.pow(2).sum() / 2
        if fixed is not None:
            objective = objective + pde / 2 * darcy_weak_residual(model.decode(beta), model.decode_field(beta),
                                                                  fixed).pow(2).sum()
        objective.backward()
        opt.step()
    with torch.no_grad():
        return InverseResult(beta.detach(), model.decode_field(beta), model.decode(beta), float(misfit))
