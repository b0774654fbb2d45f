"""Physics-informed hard constraints with a mixture of experts (PI-HC-MoE).

Chalapathi, Du & Krishnapriyan, "Scaling physics-informed hard constraints with mixture-of-experts",
ICLR 2024 (arXiv 2402.13412), building on Négiar, Mahoney & Krishnapriyan, "Learning differentiable
solvers for systems with hard constraints", ICLR 2023.

Method. A backbone network outputs ``N`` basis functions ``b(x) ∈ R^N``. The domain is split into
``K`` subdomains Ω_k (the experts). Expert ``k`` represents the solution on Ω_k as
``u_k(x) = g(x) + d(x) · b(x)·ω_k`` (``g``, ``d`` from a boundary/initial ansatz, so those conditions
hold exactly) and picks its coefficients ``ω_k`` by a small solve that makes the PDE residual vanish at
its enforcement points ``x_{k,1..m}`` in Ω_k::

    ω_k = argmin ‖A_k ω - f_k‖² + λ_k ‖ω‖²,   A_k[i, j] = r(φ_j)(x_{k,i}) - r(0)(x_{k,i}),  f_k = -r(0)(x_{k,i})

where ``r(v)`` is the PDE residual of ``u = g + d·v`` and ``φ_j = b_j``. For residuals affine in ``u``
(linear PDEs) this is the paper's nonlinear least-squares problem solved exactly (Levenberg–Marquardt
takes one step). With ``m·c ≤ N`` residual rows the system is underdetermined and the constraint holds
at the enforcement points up to the ridge ``λ`` (minimum-norm solution); with more rows it is the
least-squares solution the paper uses. The prediction at ``x`` is ``u_k(x)`` of the expert whose
subdomain contains ``x`` (a hard partition, as the paper's spatio-temporal router). Gradients reach
the backbone (and trainable PDE parameters) through ``torch.linalg.solve``, whose backward pass is the
implicit-function-theorem formula of the paper for a linear system. Training minimises the PDE
residual of the assembled solution on collocation points, as in the paper.

Decisions (ours). (1) Subdomains are ``K`` equal slabs of the bounding box along one axis (the paper
splits a grid along each dimension). (2) Enforcement points are drawn once (fixed by the run's seed,
stored as a buffer so checkpoints resume exactly); the paper resamples them every step.
(3) ``λ_k = ridge · tr(A_k A_kᵀ)/rows``, a ridge relative to the system's scale. (4) Residuals
affine in ``u`` (:meth:`MixtureOfExperts.check_affine`) take the single ridge solve above. Others
(``nonlinear=True``, e.g. Burgers, Allen–Cahn) take the paper's Levenberg–Marquardt loop per expert:
``iterations`` damped Gauss–Newton steps ``Δ = argmin ‖JΔ + r‖² + μ_k tr(JJᵀ)/rows ‖Δ‖²`` on
``J = ∂r/∂ω_k`` without a graph, starting from ``ω = 0`` (``u = g``) at every forward pass; a step is
kept only if it lowers ``‖r_k‖`` (then ``μ_k ← max(μ_k/10, ridge)``, else ``μ_k ← 10 μ_k``; ``μ_k``
starts at ``damping``). Gradients come from ONE more damped Gauss–Newton step taken WITH the graph
from the detached ``ω*``: ``Δ = -(JᵀJ + λI)⁻¹Jᵀ r(ω*, θ)`` with ``J`` detached and ``λ`` the
relative ``ridge`` of decision (3); the output is ``ω* + Δ - stop_grad(Δ)`` (value ``ω*``, our decision, since an
unchecked step may raise the residual of an unconverged solve), whose derivative
``-(JᵀJ + λI)⁻¹Jᵀ ∂r/∂θ`` is the implicit-function-theorem derivative of ``r(ω*(θ), θ) = 0``
(Gauss–Newton form, damped by λ); the terms dropped are proportional to ``r(ω*)``, so it is exact
when the expert's residual is solved (square or underdetermined systems) and approximate for an
overdetermined least-squares fit. For underdetermined systems it is the derivative of the
minimum-norm branch, not necessarily of the path LM took. ``J`` comes from one residual call on
``N`` stacked copies of the points, copy ``j`` perturbed by ``t·d·b_j`` with a zero leaf ``t``:
``∂r/∂t`` per row is column ``j`` (residuals are pointwise, so rows do not mix, and input
derivatives taken with ``torch.autograd.grad`` inside the residual carry ``t`` correctly).
(5) One output component.
(6) Pointwise autograd residuals cannot see a jump between neighbouring experts (the paper's
finite-difference residuals on a grid straddle the interfaces), so ``--constraints hard-moe`` adds
:class:`ExpertInterfaces`, a penalty on the jumps of ``u`` and ``∂u/∂x_axis`` across slab edges;
on diffusion-reaction it lowered the 300-step error from 1.41 to 0.56 (docs/constrained_training.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..problems import Condition, Domain, Points, SpaceTime

__all__ = ["ExpertInterfaces", "MixtureOfExperts", "expert_coefficients", "slab_edges", "slab_points"]

Fn = Callable[[torch.Tensor], torch.Tensor]
ResidualFn = Callable[[torch.Tensor, torch.Tensor, Mapping[str, torch.Tensor]], torch.Tensor]


def expert_coefficients(a: torch.Tensor, f: torch.Tensor, *, ridge: float) -> torch.Tensor:
    """Ridge solution ``argmin ‖aω - f‖² + λ‖ω‖²`` with ``λ = ridge · tr(aaᵀ)/rows``, differentiably.

    Solves the smaller of the two equivalent systems: ``(aaᵀ + λI) μ = f, ω = aᵀμ`` when there are
    at most as many rows as unknowns (then ``aω = f`` up to ``λ``), else ``(aᵀa + λI) ω = aᵀf``.
    """
    rows, cols = a.shape
    lam = ridge * (a * a).sum() / rows
    # QR of the ridge-augmented matrix gives the Cholesky factor R of the Gram matrix plus λI
    # without forming it, so the solve sees cond(a) rather than cond(a)² before the final products.
    small = rows <= cols
    tall = torch.cat([a.T if small else a,
                      lam.sqrt() * torch.eye(rows if small else cols, dtype=a.dtype, device=a.device)])
    r = torch.linalg.qr(tall).R
    rhs = f[:, None] if small else (a.T @ f)[:, None]
    y = torch.linalg.solve_triangular(r.T, rhs, upper=False)
    z = torch.linalg.solve_triangular(r, y, upper=True)[:, 0]
    return a.T @ z if small else z


class MixtureOfExperts(nn.Module):
    """``u(x) = g(x) + d(x) · b(x)·ω_{k(x)}`` with per-expert coefficients from a differentiable solve.

    Args:
        basis: network mapping ``(n, dim)`` points to ``(n, N)`` basis values.
        residual: the PDE residual ``residual(x, u, params) -> (n,)`` or ``(n, c)`` (pointwise in ``x``).
        points: enforcement points ``(m, dim)``; each belongs to the expert of its slab.
        edges: ``K + 1`` increasing slab boundaries along ``axis`` (the outer ones bound the domain).
        params: the problem's named constants and trainable scalars, passed to ``residual``.
        lift, distance: the boundary/initial ansatz (``None``: ``g = 0``, ``d = 1``).
        ridge: relative ridge of the expert solves (decision (3) of the module docstring).
        nonlinear: solve each expert by Levenberg–Marquardt (decision (4)); ``False`` assumes the
            residual is affine in ``u``.
        iterations, damping: LM iterations without a graph and the initial relative damping ``μ``.
    """

    def __init__(
        self,
        basis: nn.Module,
        *,
        residual: ResidualFn,
        points: torch.Tensor,
        edges: Sequence[float],
        axis: int = 0,
        params: Mapping[str, torch.Tensor] | None = None,
        lift: Fn | None = None,
        distance: Fn | None = None,
        ridge: float = 1e-10,
        nonlinear: bool = False,
        iterations: int = 8,
        damping: float = 1e-3,
    ) -> None:
        super().__init__()
        edges = [float(e) for e in edges]
        if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"edges must be at least two increasing numbers, got {edges}")
        if points.ndim != 2 or not 0 <= axis < points.shape[1]:
            raise ValueError(f"points must be (m, dim) with 0 <= axis < dim, got {tuple(points.shape)}, axis={axis}")
        if not ridge >= 0:
            raise ValueError(f"ridge must be >= 0, got {ridge!r}")
        if not isinstance(iterations, int) or iterations < 0:
            raise ValueError(f"iterations must be an integer >= 0, got {iterations!r}")
        if not damping > 0:
            raise ValueError(f"damping must be > 0, got {damping!r}")
        self.nonlinear, self.iterations, self.damping = bool(nonlinear), iterations, float(damping)
        self.basis = basis
        self.residual = residual
        self.params = params if params is not None else {}
        self.lift, self.distance = lift, distance
        self.axis, self.ridge = axis, float(ridge)
        self.register_buffer("edges", torch.tensor(edges, dtype=points.dtype))
        self.register_buffer("points", points.detach().clone())
        owner = self.expert_of(self.points)
        empty = sorted(set(range(self.experts)) - set(owner.tolist()))
        if empty:
            raise ValueError(f"experts {empty} have no enforcement points")

    @property
    def experts(self) -> int:
        return self.edges.numel() - 1

    def expert_of(self, x: torch.Tensor) -> torch.Tensor:
        """Index of the slab containing each row of ``x`` (points on an inner edge go right)."""
        inner = self.edges[1:-1].to(x.dtype)
        return torch.bucketize(x[:, self.axis].detach().contiguous(), inner, right=True)

    def _offset(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        g = self.lift(x) if self.lift is not None else torch.zeros_like(x[:, :1])
        d = self.distance(x) if self.distance is not None else torch.ones_like(x[:, :1])
        return g, d

    def system(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(A, f, rows_owner)``: the residual rows at all enforcement points and their experts.

        One residual call on ``N + 1`` stacked copies of the points: copy ``j < N`` carries
        ``u = g + d·b_j``, the last copy ``u = g``; affinity turns differences into columns of ``A``.
        """
        m = self.points.shape[0]
        with torch.enable_grad():
            x = self.points.repeat(self._n_basis() + 1, 1).requires_grad_(True)
            b = self.basis(x)
            n = b.shape[1]
            pick = torch.arange(n + 1, device=x.device).repeat_interleave(m)
            own = torch.cat([b, torch.zeros_like(b[:, :1])], dim=1).gather(1, pick[:, None])
            g, d = self._offset(x)
            r = self.residual(x, g + d * own, self.params)
            r = r[:, None] if r.ndim == 1 else r
            r = r.reshape(n + 1, m, -1)  # (copy, point, component)
        a = (r[:n] - r[n:]).permute(1, 2, 0).reshape(-1, n)  # rows ordered (point, component)
        f = -r[n].reshape(-1)
        owner = self.expert_of(self.points).repeat_interleave(r.shape[2])
        return a, f, owner

    def _n_basis(self) -> int:
        if not hasattr(self, "_basis_size"):
            with torch.no_grad():
                self._basis_size = int(self.basis(self.points[:1]).shape[1])
        return self._basis_size

    def coefficients(self) -> torch.Tensor:
        """``(K, N)``: every expert's coefficients from its own solve."""
        if self.nonlinear:
            return self._levenberg_marquardt()
        a, f, owner = self.system()
        return torch.stack([expert_coefficients(a[owner == k], f[owner == k], ridge=self.ridge)
                            for k in range(self.experts)])

    def residual_at(self, omega: torch.Tensor) -> torch.Tensor:
        """The PDE residual rows ``(m·c,)`` at the enforcement points for coefficients ``omega`` ``(K, N)``."""
        with torch.enable_grad():
            x = self.points.clone().requires_grad_(True)
            g, d = self._offset(x)
            u = g + d * (self.basis(x) * omega[self.expert_of(self.points)]).sum(dim=1, keepdim=True)
            r = self.residual(x, u, self.params)
        return (r[:, None] if r.ndim == 1 else r).reshape(-1)

    def _levenberg_marquardt(self) -> torch.Tensor:
        """``(K, N)`` coefficients of a nonlinear residual: LM without a graph, then one differentiable
        Gauss–Newton step from the detached solution (decision (4) of the module docstring)."""
        m, n = self.points.shape[0], self._n_basis()
        point_owner = self.expert_of(self.points)
        with torch.enable_grad():
            # b, g, d on the stacked points once per forward: only ω changes between linearisations.
            x = self.points.repeat(n, 1).requires_grad_(True)
            b = self.basis(x)
            g, d = self._offset(x)
            pick = b.gather(1, torch.arange(n, device=x.device).repeat_interleave(m)[:, None])

            def linearise(omega: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
                t = torch.zeros_like(pick).requires_grad_(True)
                u = g + d * ((b * omega[point_owner].repeat(n, 1)).sum(dim=1, keepdim=True) + t * pick)
                r = self.residual(x, u, self.params)
                r = r[:, None] if r.ndim == 1 else r
                cols = [torch.autograd.grad(r[:, i].sum(), t, retain_graph=True, materialize_grads=True)[0]
                        for i in range(r.shape[1])]
                jac = torch.cat(cols, dim=1).reshape(n, m, -1).permute(1, 2, 0).reshape(-1, n)
                return r[:m].reshape(-1), jac.detach()  # copy 0 is r(ω); rows ordered (point, component)

            omega = torch.zeros(self.experts, n, dtype=self.points.dtype, device=self.points.device)
            mu = [self.damping] * self.experts
            for _ in range(self.iterations):
                r, jac = linearise(omega)
                r = r.detach()
                rows = point_owner.repeat_interleave(r.numel() // m)
                step = torch.stack([expert_coefficients(jac[rows == k], -r[rows == k], ridge=mu[k])
                                    for k in range(self.experts)])
                trial = self.residual_at(omega + step).detach()
                for k in range(self.experts):
                    if float(trial[rows == k].norm()) < float(r[rows == k].norm()):  # NaN never passes
                        omega[k] += step[k]
                        mu[k] = max(mu[k] / 10, self.ridge, 1e-15)  # > 0, so ×10 can recover
                    else:
                        mu[k] *= 10
            r, jac = linearise(omega)  # r keeps its graph to the backbone and PDE parameters; ω, J do not
        rows = point_owner.repeat_interleave(r.numel() // m)
        # λ = ridge, not the last μ_k: μ grows on every rejected step, also once converged, and
        # would bias the derivative; the step's value is not used, so no damping is needed for safety.
        step = torch.stack([expert_coefficients(jac[rows == k], -r[rows == k], ridge=self.ridge)
                            for k in range(self.experts)])
        # The value stays the accepted ω* (an unchecked step could raise the residual); the
        # derivative is the step's, i.e. the implicit-function-theorem one.
        return omega + (step - step.detach())

    def forward(self, x: torch.Tensor, experts: torch.Tensor | None = None) -> torch.Tensor:
        """The solution at ``x``; ``experts`` (``(n,)`` indices) overrides which expert answers each row."""
        omega = self.coefficients()
        b = self.basis(x)
        g, d = self._offset(x)
        k = self.expert_of(x) if experts is None else experts
        return g + d * (b * omega[k]).sum(dim=1, keepdim=True)

    def jump(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, 2)``: the jumps of ``u`` and of ``∂u/∂x_axis`` across the inner edge each row lies on.

        Each expert solves only inside its slab, so nothing else ties neighbours together when the
        PDE residual is taken pointwise (the paper's finite-difference residuals on a grid straddle
        the interfaces and do; see :class:`ExpertInterfaces`).
        """
        inner = self.edges[1:-1].to(x.dtype)
        left = (x[:, self.axis : self.axis + 1] - inner).abs().argmin(dim=1)
        with torch.enable_grad():
            both = torch.cat([x, x]).detach().requires_grad_(True)
            u = self(both, torch.cat([left, left + 1]))
            (du,) = torch.autograd.grad(u.sum(), both, create_graph=True)
        n = x.shape[0]
        du = du[:, self.axis : self.axis + 1]
        return torch.cat([u[:n] - u[n:], du[:n] - du[n:]], dim=1)

    def check_affine(self, *, generator: torch.Generator) -> float:
        """Relative mismatch between ``r(g + d·bω)`` and ``Aω - f`` for a random ``ω`` (0 if affine)."""
        a, f, _ = self.system()
        omega = torch.randn(a.shape[1], generator=generator, dtype=a.dtype)
        with torch.enable_grad():
            x = self.points.clone().requires_grad_(True)
            g, d = self._offset(x)
            r = self.residual(x, g + d * (self.basis(x) @ omega)[:, None], self.params)
        r = (r[:, None] if r.ndim == 1 else r).reshape(-1)
        expected = a @ omega - f
        expected = expected.detach()
        return float((r.detach() - expected).norm() / expected.norm().clamp_min(torch.finfo(a.dtype).tiny))


def slab_edges(bounds: tuple[Sequence[float], Sequence[float]], *, experts: int, axis: int) -> list[float]:
    """The ``experts + 1`` edges of equal slabs of the box ``bounds = (lo, hi)`` along ``axis``."""
    lo, hi = bounds
    if not isinstance(experts, int) or experts < 1:
        raise ValueError(f"experts must be an integer >= 1, got {experts!r}")
    if not 0 <= axis < len(lo):
        raise ValueError(f"axis {axis} out of range for a {len(lo)}-D domain")
    return [lo[axis] + (hi[axis] - lo[axis]) * k / experts for k in range(experts + 1)]


def slab_points(
    domain, *, experts: int, per_expert: int, axis: int, generator: torch.Generator, dtype: torch.dtype
) -> tuple[torch.Tensor, list[float]]:
    """``per_expert`` uniform points in each of ``experts`` equal slabs of ``domain`` along ``axis``.

    ``domain`` is anything with ``bounds`` and ``sample_interior(n, generator=, dtype=)`` (a physopt
    domain); points are drawn from the whole domain and kept in their slab, so non-box domains work.
    Returns the points ``(experts·per_expert, dim)`` ordered by expert, and the ``experts + 1`` edges.
    """
    if per_expert < 1:
        raise ValueError(f"points per expert must be >= 1, got {per_expert}")
    edges = slab_edges(domain.bounds, experts=experts, axis=axis)
    chunks = []
    for k in range(experts):
        have: list[torch.Tensor] = []
        count, tries = 0, 0
        while count < per_expert:
            x = domain.sample_interior(4 * experts * per_expert, generator=generator, dtype=dtype)
            x = x[(x[:, axis] >= edges[k]) & (x[:, axis] < edges[k + 1])]
            have.append(x)
            count += x.shape[0]
            tries += 1
            if tries > 100 and count == 0:
                raise ValueError(f"slab {k} of the domain along axis {axis} is empty")
        chunks.append(torch.cat(have)[:per_expert])
    return torch.cat(chunks), edges


@dataclass(frozen=True)
class ExpertInterfaces(Condition):
    """Continuity of a :class:`MixtureOfExperts` across its inner slab edges: the residual is
    :meth:`MixtureOfExperts.jump` (value and normal derivative) at points drawn uniformly on the
    edges ``inner_edges`` along ``axis``. Trained as a penalty with ``--constraints hard-moe``."""

    inner_edges: tuple[float, ...]
    axis: int
    kind: str = "interface"

    def sample(self, domain: Domain | SpaceTime, n: int, *, generator: torch.Generator, dtype: torch.dtype):
        parts, have = [], 0
        while have < n:
            x = domain.sample_interior(max(2 * (n - have), 16), generator=generator, dtype=dtype)
            which = torch.randint(len(self.inner_edges), (x.shape[0],), generator=generator, device=x.device)
            x[:, self.axis] = torch.tensor(self.inner_edges, dtype=dtype, device=x.device)[which]
            x = x[domain.contains(x)]
            parts.append(x)
            have += x.shape[0]
        return Points(torch.cat(parts)[:n])

    def residual(self, model, batch, params):  # type: ignore[override]
        if not isinstance(model, MixtureOfExperts):
            raise ValueError(f"ExpertInterfaces needs a MixtureOfExperts model, got {type(model).__name__}")
        return model.jump(batch["x"])
