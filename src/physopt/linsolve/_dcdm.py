"""The Deep Conjugate Direction Method (DCDM) for the 2-D Poisson system.

Kaneda, Akar, Chen, Kim & Teran, "A Deep Conjugate Direction Method for Iteratively Solving Linear
Systems" (ICML 2023, arXiv 2205.10763). A network ``f`` maps the current residual to a search
direction approximating ``A⁻¹ r``; the iteration keeps what makes conjugate directions converge:

    d_k = f(r_k / ‖r_k‖),   d_k ← d_k - Σ_{j < k} (d_kᵀ A d_j)/(d_jᵀ A d_j) d_j,
    α_k = d_kᵀ r_k / d_kᵀ A d_k,   x_{k+1} = x_k + α_k d_k,   r_{k+1} = r_k - α_k A d_k,

so each step is the exact line minimiser of the energy ½xᵀAx - bᵀx along a direction A-orthogonal
to every previous one, whatever the network returns; the network's scale is irrelevant. The seed
A-orthogonalises against the last two directions only (``keep = 2``); for CG that is enough (its
directions are A-orthogonal to all earlier ones by the three-term recurrence), for a network's
direction it is not: f is no fixed symmetric preconditioner, so components along older directions
come back. With a network trained on n = 32–128, ``keep = 2`` stalled at n = 256 (residual 5.5e-4
after 300 iterations) although the network's direction there was nearly as good as on the training
sizes (‖r̂ − α A f(r̂)‖ 0.10–0.33 vs 0.07–0.25 at n = 128); ``keep = 10`` needed 21 iterations and
all previous directions 12 (n = 128: 11 in every case). The default therefore keeps all of them:
each costs two stored vectors and one inner product per later iteration, negligible at the ~10
iterations DCDM takes, and the iteration then terminates in at most N steps in exact arithmetic
like every conjugate-direction method.

Training needs residuals only, no solutions: the loss is the seed's ``‖r̂ - A f(r̂)‖²`` on unit
vectors r̂ drawn from the spectrum of A, biased to its low end where the residuals of a
Krylov-type iteration live (the seed draws Ritz vectors from Lanczos; for this matrix the
eigenvectors are the sine modes in closed form, so we draw those, weights ∝ λ^{-1} for half the
batch, white for the other half: our reading of the seed's data recipe, stated as a choice).

The network here is a fully convolutional V-cycle with the *same* weights on every level (pool to
the next level while the grid is larger than 4 × 4): one set of ~2.4 k weights serves every grid
size, the property the seed's size-independence claim rests on. Its float32 output is cast back
to the system's dtype; the iteration itself is in the system's dtype.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812 - torch's own alias
from torch import Tensor, nn

from ._cg import LinearSolve, poisson_apply

__all__ = ["DcdmTraining", "DirectionNet", "dcdm_solve", "sample_residuals", "train_direction_net"]


class DirectionNet(nn.Module):
    """``r ↦ d``, a V-cycle of 3×3 convolutions sharing weights across levels (any ``n ≥ 1``)."""

    def __init__(self, *, channels: int = 16, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"DirectionNet needs channels >= 1, got {channels!r}")
        self.lift = nn.Conv2d(1, channels, 3, padding=1)
        self.pre = nn.Conv2d(channels, channels, 3, padding=1)
        self.post = nn.Conv2d(channels, channels, 3, padding=1)
        self.out = nn.Conv2d(channels, 1, 3, padding=1)
        if generator is not None:  # explicit, reproducible initialisation (no global RNG)
            for p in self.parameters():
                bound = 1.0 / math.sqrt(p[0].numel()) if p.ndim > 1 else 0.0
                with torch.no_grad():
                    p.uniform_(-bound, bound, generator=generator) if bound else p.zero_()

    def _cycle(self, h: Tensor) -> Tensor:
        h = F.gelu(self.pre(h))
        if min(h.shape[-2:]) > 4:
            coarse = self._cycle(F.avg_pool2d(h, 2, ceil_mode=True))
            h = h + F.interpolate(coarse, size=h.shape[-2:], mode="bilinear", align_corners=False)
        return F.gelu(self.post(h))

    def forward(self, r: Tensor) -> Tensor:
        """Directions for residuals ``(b, n, n)`` (or ``(n, n)``), same shape."""
        single = r.ndim == 2
        h = self.lift((r[None] if single else r)[:, None])
        d = self.out(self._cycle(h))[:, 0]
        return d[0] if single else d


def _sine_basis(n: int, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
    k = torch.arange(1, n + 1, dtype=dtype, device=device)
    s = torch.sin(math.pi * k[:, None] * k[None, :] / (n + 1)) * math.sqrt(2.0 / (n + 1))
    lam1 = 4 * torch.sin(math.pi * k / (2 * (n + 1))) ** 2
    return s, lam1[:, None] + lam1[None, :]  # orthonormal eigenvectors (as S ⊗ S) and eigenvalues


def sample_residuals(n: int, batch: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> Tensor:
    """Unit-norm training residuals ``(batch, n, n)``: half ∝ λ^{-1}-weighted modes, half white."""
    device = generator.device
    s, lam = _sine_basis(n, dtype, device)
    c = torch.randn(batch, n, n, generator=generator, dtype=dtype, device=device)
    c[: batch // 2] = c[: batch // 2] * (lam.min() / lam)
    r = s @ c @ s.T
    return r / torch.linalg.vector_norm(r, dim=(-2, -1), keepdim=True)


@dataclass(frozen=True)
class DcdmTraining:
    """How the direction network is trained: grid sizes (cycled step by step), steps, batch, Adam rate."""

    sizes: tuple[int, ...] = (32, 64, 128)
    steps: int = 400
    batch: int = 16
    lr: float = 3e-3
    channels: int = 16

    def __post_init__(self) -> None:
        if not self.sizes or any(isinstance(n, bool) or not isinstance(n, int) or n < 2 for n in self.sizes):
            raise ValueError(f"DcdmTraining.sizes must be grid sizes >= 2, got {self.sizes!r}")
        for name in ("steps", "batch", "channels"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"DcdmTraining.{name} must be a positive integer, got {v!r}")
        if not self.lr > 0:
            raise ValueError(f"DcdmTraining.lr must be positive, got {self.lr!r}")


def train_direction_net(options: DcdmTraining, *, generator: torch.Generator) -> tuple[DirectionNet, list[float]]:
    """Train a :class:`DirectionNet` on ``‖r̂ - A f(r̂)‖²`` (seed's loss); returns it and the losses."""
    net = DirectionNet(channels=options.channels, generator=generator).to(generator.device)
    opt = torch.optim.Adam(net.parameters(), lr=options.lr)
    losses = []
    for step in range(options.steps):
        r = sample_residuals(options.sizes[step % len(options.sizes)], options.batch, generator=generator)
        loss = ((r - poisson_apply(net(r))) ** 2).sum(dim=(-2, -1)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if not math.isfinite(losses[-1]):
            raise FloatingPointError(f"DCDM training loss is {losses[-1]} at step {len(losses)}")
    return net.eval(), losses


def dcdm_solve(net: nn.Module, b: Tensor, *, rtol: float, max_iter: int, keep: int | None = None) -> LinearSolve:
    """DCDM on ``A x = b`` (Poisson, ``(n, n)``) from x = 0, A-orthogonal to the last ``keep`` directions
    (``None``: all previous ones; the seed's choice is 2, see the module docstring)."""
    if not 0 < rtol < 1 or max_iter < 1 or (keep is not None and (isinstance(keep, bool) or keep < 0)):
        raise ValueError(f"dcdm_solve needs 0 < rtol < 1, max_iter >= 1, keep None or >= 0; "
                         f"got {rtol}, {max_iter}, {keep!r}")
    x = torch.zeros_like(b)
    r = b.clone()
    bnorm = torch.linalg.vector_norm(b)
    previous: list[tuple[Tensor, Tensor, Tensor]] = []
    k = 0
    while k < max_iter and torch.linalg.vector_norm(r) > rtol * bnorm:
        with torch.no_grad():
            rn = (r / torch.linalg.vector_norm(r)).to(next(net.parameters()).dtype)
            d = net(rn).to(b.dtype)
        for dj, adj, dadj in previous:
            d = d - ((d * adj).sum() / dadj) * dj
        ad = poisson_apply(d)
        dad = (d * ad).sum()
        alpha = (d * r).sum() / dad
        x += alpha * d
        r -= alpha * ad
        previous = [*previous, (d, ad, dad)] if keep is None else [*previous, (d, ad, dad)][-keep:] if keep else []
        k += 1
    res = float(torch.linalg.vector_norm(b - poisson_apply(x)) / bnorm)
    return LinearSolve(x, res, k)
