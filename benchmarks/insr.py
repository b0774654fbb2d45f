"""INSR vs a grid solver and space-time PINNs: accuracy, memory and CPU time on three problems.

- ``convection`` (u_t + 30 u_x = 0, u0 = sin x, periodic, t ∈ [0, 1]): INSR (``--method insr``,
  implicit midpoint, exactly periodic spatial MLP) against a grid solver with the *same* time
  scheme (second-order central differences in space, Crank–Nicolson = implicit midpoint in time,
  solved exactly in Fourier space since the periodic difference operator is circulant) at the
  number of grid values equal to INSR's parameters and at 4x that, and against the space-time
  PINN (``--method pinn``) and the Lagrangian PINN (``--method lpinn``, physopt's best method on
  this problem, docs/methods.md) at INSR's CPU time.
- ``elastic-waves`` (2-D linear elastodynamics, P + S plane waves, periodic): INSR with Newmark's
  average acceleration (``insr.scheme = midpoint`` on a problem second order in time) against the
  same scheme on a finite-difference grid (2 N² values per state) and the space-time PINN at equal
  CPU time.

- ``taylor-green`` (2-D incompressible Navier–Stokes, the Taylor–Green vortex, ν = 0.1, periodic
  [0, 2π]², t ∈ [0, 2], closed form): INSR (implicit midpoint, exactly periodic spatial MLP with
  outputs (u, v, p), the monolithic NS residual: not the paper's advection-projection splitting)
  against a Fourier pseudo-spectral grid solver with the same implicit midpoint rule (projection
  onto divergence-free fields, fixed-point iterations to 1e-13 per step; 2 N² values per state, the
  pressure recomputed from the velocity) at N = 8 and 16, and the space-time PINN at equal CPU time.
  Errors split into the velocity (u, v) and the pressure with its spatial mean removed at each time
  (only ∇p enters the equations). Why INSR trails: the script also prints INSR's velocity error at
  t = 0 (the initial fit) and t = 2 and its step losses; ``--iterations`` changes the optimiser's
  effort per step, ``--steps`` the time step.

Memory is counted as the values one state stores (network parameters; grid values); both Newmark
solvers keep two states. Errors: relative L2 on each problem's reference grid (grid solutions are
evaluated between nodes by their Fourier series and linearly in time between steps, as INSR's
trajectory is). The seed (Chen et al. 2023) claims higher accuracy and lower memory than grids,
at a higher cost.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/insr.py
    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/insr.py --cases convection --steps 200
    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/insr.py --cases taylor-green
    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/insr.py --cases taylor-green --iterations 160 --no-pinn
    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/insr.py --cases taylor-green --initial-iterations 4000 \
        --no-pinn
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import physopt
from physopt.problems import get


def fourier_eval(values: np.ndarray, points: np.ndarray, period: float) -> np.ndarray:
    """The trigonometric interpolant of periodic nodal ``values`` (``(N,)*d``) at ``points`` ``(n, d)``."""
    coeffs = np.fft.fftn(values) / values.size
    ks = np.meshgrid(*[np.fft.fftfreq(n, 1.0 / n) for n in values.shape], indexing="ij")
    out = np.zeros(len(points), dtype=complex)
    for idx in np.ndindex(values.shape):
        phase = sum(2 * np.pi * ks[a][idx] * points[:, a] / period for a in range(values.ndim))
        out += coeffs[idx] * np.exp(1j * phase)
    return out.real


def in_time(states: list[np.ndarray], dt: float, points: np.ndarray, evaluate) -> np.ndarray:
    """Linear in time between the stored states (``evaluate(state, x) -> (n, k)``)."""
    t = points[:, -1]
    k = np.clip(np.floor(t / dt + 1e-9).astype(int), 0, len(states) - 2)
    out = None
    for j in np.unique(k):
        rows = k == j
        a = ((t[rows] - j * dt) / dt)[:, None]
        u = (1 - a) * evaluate(states[j], points[rows, :-1]) + a * evaluate(states[j + 1], points[rows, :-1])
        out = np.zeros((len(points), u.shape[1])) if out is None else out
        out[rows] = u
    return out


def grid_convection(n: int, steps: int, beta: float = 30.0) -> tuple[list[np.ndarray], float]:
    """Central differences + Crank–Nicolson for u_t + β u_x = 0 on n periodic nodes of [0, 2π)."""
    start = time.process_time()
    h, dt = 2 * np.pi / n, 1.0 / steps
    k = np.fft.fftfreq(n, 1.0 / n)
    d = 1j * np.sin(k * h) / h  # symbol of (u_{j+1} - u_{j-1}) / 2h
    factor = (1 - 0.5 * dt * beta * d) / (1 + 0.5 * dt * beta * d)
    u = np.fft.fft(np.sin(np.arange(n) * h))
    states = [np.fft.ifft(u).real]
    for _ in range(steps):
        u = u * factor
        states.append(np.fft.ifft(u).real)
    return states, time.process_time() - start


def grid_elastic(n: int, steps: int, t1: float = 0.5) -> tuple[list[np.ndarray], float]:
    """Central differences + Newmark (average acceleration) for the elastic-waves problem, n² nodes."""
    from physopt.problems.zoo import elastic_waves_exact

    start = time.process_time()
    h, dt = 1.0 / n, t1 / steps
    kx, ky = np.meshgrid(*[2 * np.pi * np.fft.fftfreq(n, 1.0 / n)] * 2, indexing="ij")
    dxx, dyy = -4 / h**2 * np.sin(kx * h / 2) ** 2, -4 / h**2 * np.sin(ky * h / 2) ** 2
    dxy = -np.sin(kx * h) * np.sin(ky * h) / h**2
    lam = mu = 1.0
    op = np.stack([np.stack([(lam + 2 * mu) * dxx + mu * dyy, (lam + mu) * dxy], -1),
                   np.stack([(lam + mu) * dxy, mu * dxx + (lam + 2 * mu) * dyy], -1)], -2)  # (n, n, 2, 2)
    eye = np.eye(2)
    lhs = eye - dt**2 / 4 * op
    nodes = np.stack(np.meshgrid(np.arange(n) * h, np.arange(n) * h, indexing="ij"), -1).reshape(-1, 2)

    z = np.concatenate([nodes, np.zeros((len(nodes), 1))], 1)
    u0 = elastic_waves_exact(z).reshape(n, n, 2)
    v0 = get("elastic-waves").conditions["ic_t"].value(torch.from_numpy(z)).numpy().reshape(n, n, 2)  # u_t(x, 0)
    u = np.fft.fft2(u0, axes=(0, 1))
    prev = u - dt * np.fft.fft2(v0, axes=(0, 1))  # the ghost state u_{-1} = u_0 - Δt u_t, as INSR's
    states = [u0]
    for _ in range(steps):
        rhs = np.einsum("xyij,xyj->xyi", 2 * eye + dt**2 / 2 * op, u) - np.einsum("xyij,xyj->xyi", lhs, prev)
        prev, u = u, np.linalg.solve(lhs, rhs[..., None])[..., 0]
        states.append(np.fft.ifft2(u, axes=(0, 1)).real)
    return states, time.process_time() - start


def grid_taylor_green(n: int, steps: int, nu: float = 0.1, t1: float = 2.0) -> tuple[list[np.ndarray], float]:
    """Pseudo-spectral Taylor–Green on n² periodic nodes of [0, 2π)², implicit midpoint in time.

    Each step solves ``U⁺ = U + Δt F((U + U⁺)/2)``, ``F(U) = -P[(u·∇)u] - ν k² U`` (``P`` the
    Fourier projection onto divergence-free fields) by fixed-point iteration; the stored states are
    ``(n, n, 3)``: u, v and the pressure of ``Δp = -∇·((u·∇)u)`` (zero mean)."""
    from physopt.problems.zoo import taylor_green_exact

    start = time.process_time()
    h, dt = 2 * np.pi / n, t1 / steps
    kx, ky = np.meshgrid(*[np.fft.fftfreq(n, 1.0 / n)] * 2, indexing="ij")
    k2 = kx**2 + ky**2
    k2_safe = np.where(k2 == 0, 1.0, k2)

    def advection(uh: np.ndarray, vh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u, v = np.fft.ifft2(uh).real, np.fft.ifft2(vh).real
        d = [np.fft.ifft2(1j * k * w).real for w in (uh, vh) for k in (kx, ky)]  # u_x, u_y, v_x, v_y
        return np.fft.fft2(u * d[0] + v * d[1]), np.fft.fft2(u * d[2] + v * d[3])

    def rhs(uh: np.ndarray, vh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = advection(uh, vh)
        div = (kx * a + ky * b) / k2_safe
        return -(a - kx * div) - nu * k2 * uh, -(b - ky * div) - nu * k2 * vh

    def state(uh: np.ndarray, vh: np.ndarray) -> np.ndarray:
        a, b = advection(uh, vh)
        ph = 1j * (kx * a + ky * b) / k2_safe
        ph[0, 0] = 0.0
        return np.stack([np.fft.ifft2(w).real for w in (uh, vh, ph)], -1)

    nodes = np.stack(np.meshgrid(np.arange(n) * h, np.arange(n) * h, indexing="ij"), -1).reshape(-1, 2)
    u0 = taylor_green_exact(np.concatenate([nodes, np.zeros((len(nodes), 1))], 1), nu=nu).reshape(n, n, 3)
    uh, vh = np.fft.fft2(u0[..., 0]), np.fft.fft2(u0[..., 1])
    states = [state(uh, vh)]
    for _ in range(steps):
        nu_h, nv_h = uh, vh
        for _ in range(50):
            fu, fv = rhs((uh + nu_h) / 2, (vh + nv_h) / 2)
            new_u, new_v = uh + dt * fu, vh + dt * fv
            change = max(np.abs(new_u - nu_h).max(), np.abs(new_v - nv_h).max()) / n**2
            nu_h, nv_h = new_u, new_v
            if change < 1e-13:
                break
        uh, vh = nu_h, nv_h
        states.append(state(uh, vh))
    return states, time.process_time() - start


def split_errors(pred: np.ndarray, ref: np.ndarray, shape: tuple[int, ...]) -> tuple[float, float]:
    """Relative L2 of the velocity (columns 0, 1) and of the pressure (column 2) with its mean over
    each time slice of the ``shape = (nx, ny, nt)`` reference grid removed."""
    vel = rel_l2(pred[:, :2], ref[:, :2])
    p, q = pred[:, 2].reshape(shape), ref[:, 2].reshape(shape)
    p, q = p - p.mean(axis=(0, 1)), q - q.mean(axis=(0, 1))
    return vel, rel_l2(p, q)


def taylor_green_rows(steps: int, iterations: int, initial: int, pinn: bool) -> list[tuple]:
    rows = []
    sets = [f"insr.steps={steps}", f"insr.iterations={iterations}", f"insr.initial_iterations={initial}",
            "insr.points=500", "insr.periodic=true", "model.width=20", "model.depth=2"]
    res = physopt.solve("taylor-green", method="insr", optimizer="adam", constraints="penalty",
                        overrides=["threads=1", *sets])
    ref = get("taylor-green").reference
    shape = ref.grid_shape
    with torch.no_grad():
        pred = res.model(torch.as_tensor(ref.points)).numpy()
    vel, pres = split_errors(pred, ref.values, shape)
    at = [rel_l2(pred.reshape(*shape, 3)[:, :, j, :2], ref.values.reshape(*shape, 3)[:, :, j, :2]) for j in (0, -1)]
    losses = [h["loss"] for h in res.history]
    print(f"# taylor-green INSR {iterations} it/step, initial fit {initial} it: velocity error "
          f"t=0 {at[0]:.2e}, t=2 {at[1]:.2e}; "
          f"initial-fit loss {losses[0]:.2e}, step losses median {np.median(losses[1:]):.2e} "
          f"max {max(losses[1:]):.2e}", flush=True)
    params = int(res.model.states.shape[1])
    rows.append(("taylor-green", f"INSR midpoint, {steps} steps, {iterations} it/step", params,
                 res.report.cpu_time_s, f"{vel:.2e} / {pres:.2e}"))
    for n in (8, 16):
        states, gcpu = grid_taylor_green(n, steps)
        pred = in_time(states, 2.0 / steps, ref.points, lambda s, x: np.stack(
            [fourier_eval(s[..., i], x, 2 * np.pi) for i in range(3)], 1))
        vel, pres = split_errors(pred, ref.values, shape)
        rows.append(("taylor-green", f"grid pseudo-spectral + midpoint, {steps} steps", 2 * n * n, gcpu,
                     f"{vel:.2e} / {pres:.2e}"))
    if pinn:
        out = physopt.solve("taylor-green", method="pinn", steps=10**6, time_budget=res.report.cpu_time_s,
                            overrides=["threads=1", "budget_clock=cpu", "eval_every=100000", "optim.name=adam",
                                       "model.periodic=true"])
        with torch.no_grad():
            pred = out.model(torch.as_tensor(ref.points)).numpy()
        vel, pres = split_errors(pred, ref.values, shape)
        params = sum(p.numel() for p in out.model.parameters())
        rows.append(("taylor-green", "space-time pinn (adam, periodic), equal CPU", f"({params} for all t)",
                     out.report.cpu_time_s, f"{vel:.2e} / {pres:.2e}"))
    return rows


def rel_l2(pred: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(pred - ref) / np.linalg.norm(ref))


def insr_run(problem: str, sets: list[str]) -> tuple[float, float, int]:
    res = physopt.solve(problem, method="insr", optimizer="adam", constraints="penalty", overrides=["threads=1", *sets])
    # the parameter count of one stored state = the trajectory's states per step
    return res.report.rel_l2, res.report.cpu_time_s, int(res.model.states.shape[1])


def pinn_run(problem: str, method: str, budget: float, sets: list[str] = ()) -> tuple[float, float]:
    res = physopt.solve(problem, method=method, steps=10**6, time_budget=budget,
                        overrides=["threads=1", "budget_clock=cpu", "eval_every=100000", *sets])
    return res.report.rel_l2, res.report.cpu_time_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=["convection", "elastic-waves"])
    ap.add_argument("--steps", type=int, default=None, help="time steps (default: 100 / 25)")
    ap.add_argument("--iterations", type=int, default=40, help="Adam iterations per time step")
    ap.add_argument("--no-pinn", action="store_true", help="taylor-green: skip the space-time PINN")
    ap.add_argument("--initial-iterations", type=int, default=1000, help="taylor-green: initial-fit Adam iterations")
    args = ap.parse_args()
    rows = []
    if "convection" in args.cases:
        steps = args.steps or 100
        sets = [f"insr.steps={steps}", f"insr.iterations={args.iterations}", "insr.initial_iterations=1000",
                "insr.points=500", "insr.periodic=true", "model.width=16", "model.depth=2"]
        err, cpu, params = insr_run("convection", sets)
        rows.append(("convection", f"INSR midpoint, {steps} steps", params, cpu, err))
        ref = get("convection").reference
        period = 2 * np.pi
        for n in (params, 4 * params):
            states, gcpu = grid_convection(n, steps)
            pred = in_time(states, 1.0 / steps, ref.points,
                           lambda s, x: fourier_eval(s, x, period)[:, None])
            rows.append(("convection", f"grid FD + Crank–Nicolson, {steps} steps", n, gcpu, rel_l2(pred, ref.values)))
        for method in ("pinn", "lpinn"):
            e, c = pinn_run("convection", method, cpu, ["optim.name=adam", "constraints=penalty"]
                            if method == "pinn" else ["optim.name=adam"])
            rows.append(("convection", f"space-time {method} (adam), equal CPU", "—", c, e))
        print(f"# convection: {rows[-4:]}", flush=True)
    if "elastic-waves" in args.cases:
        steps = args.steps or 25
        sets = [f"insr.steps={steps}", f"insr.iterations={args.iterations}", "insr.initial_iterations=1000",
                "insr.points=500", "insr.periodic=true", "model.width=20", "model.depth=2"]
        err, cpu, params = insr_run("elastic-waves", sets)
        rows.append(("elastic-waves", f"INSR Newmark, {steps} steps", params, cpu, err))
        ref = get("elastic-waves").reference
        for n in (int(np.sqrt(params / 2)), 2 * int(np.sqrt(params / 2))):
            states, gcpu = grid_elastic(n, steps)
            pred = in_time(states, 0.5 / steps, ref.points, lambda s, x: np.stack(
                [fourier_eval(s[..., i], x, 1.0) for i in range(2)], 1))
            rows.append(("elastic-waves", f"grid FD + Newmark, {steps} steps", 2 * n * n, gcpu,
                         rel_l2(pred, ref.values)))
        e, c = pinn_run("elastic-waves", "pinn", cpu, ["optim.name=adam", "model.periodic=true"])
        rows.append(("elastic-waves", "space-time pinn (adam, periodic), equal CPU", "—", c, e))
    if "taylor-green" in args.cases:
        rows += taylor_green_rows(args.steps or 20, args.iterations, args.initial_iterations, not args.no_pinn)
    print("| problem | solver | values per state | CPU s | rel. L2 (taylor-green: velocity / pressure) |")
    print("|---|---|---|---|---|")
    for problem, solver, values, cpu, err in rows:
        print(f"| {problem} | {solver} | {values} | {cpu:.1f} | {err if isinstance(err, str) else f'{err:.2e}'} |")


if __name__ == "__main__":
    main()
