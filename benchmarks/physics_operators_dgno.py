"""DGNO on ``darcy`` 32x32 (issue 16): forward error trained mostly without labels, and the inverse problem.

Forward: :class:`physopt.models.DGNO` trained through ``physopt.learn`` with ``physics.form = weak``
(:class:`physopt.training.DGNOLoss`) on ``--n-train`` permeability fields of which ``physics.labelled =
--labelled`` carry solver solutions (the rest: the weak-form residual only), against the data-trained
FNO (all ``--n-train`` labelled) given the same training CPU seconds
(its epochs calibrated on one timed epoch, as in operators_darcy.py). Inverse: for ``--inverse``
test instances, ``--sensors`` random interior nodes observe ``u`` with Gaussian noise of
``--noise`` x (RMS of u at the sensors); :func:`physopt.training.dgno_invert` recovers the latent
code and the field ``a(beta)``; we report its relative L2 error and the fraction of cells whose phase
(above / below the midpoint of 3 and 12) is wrong, and plot instance 0. ``--weak`` also trains DGNO on
all labels without the physics term and prints, for the test instances, each field's distance to the
data and its weak residual: the data, the weak form's own solution (:func:`q1_galerkin`), both DGNOs.

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/physics_operators_dgno.py --plot docs/dgno_inverse_darcy.png
    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/physics_operators_dgno.py --epochs 20 --no-fno --inverse 1 --weak
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

import physopt
from physopt.config import load_splits, resolve_learn
from physopt.training import WendlandTests, darcy_weak_residual, dgno_invert, relative_l2

FNO = ["model.modes=8", "model.width=24", "model.lifting=48", "model.projection=48", "model.mlp=0.5", "threads=1"]


def dgno_sets(args, *, labelled: int | None) -> list[str]:
    """``physopt learn darcy --model dgno`` overrides: the weak form with ``labelled`` labels (``None``: data only)."""
    sets = [f"data.n_train={args.n_train}", "data.n_val=10", f"data.n_test={args.n_test}", "threads=1", "plots=0",
            f"model.latent={args.latent}", f"model.width={args.width}", f"optim.lr={args.lr}",
            f"batch_size={args.batch}", "optim.options.weight_decay=0.01"]  # torch's AdamW default, as before
    if labelled is None:
        return sets
    return [*sets, "physics.form=weak", "physics.weight=1", f"physics.labelled={labelled}",
            f"physics.tests={args.tests}", "physics.radius=[0.08, 0.25]"]


def train_dgno(args, *, labelled: int | None):
    """DGNO trained through ``physopt.learn`` (``physics.form = weak``); returns the model and its CPU seconds."""
    run = physopt.learn("darcy", model="dgno", epochs=args.epochs, seed=args.seed,
                        overrides=dgno_sets(args, labelled=labelled))
    return run.model.eval(), run.report.cpu_time_s


def test_split(args):
    """The runs' test instances (the same split ``physopt.learn`` draws: test first, then validation, training)."""
    cfg = resolve_learn("darcy", flags={"epochs": 1, "seed": args.seed},
                        overrides=[*dgno_sets(args, labelled=None), "model.kind=dgno"])
    return load_splits(cfg).tests["32x32"]


def forward_error(model, test) -> float:
    with torch.no_grad():
        pred = model(torch.from_numpy(test.inputs).float())
    return float(relative_l2(pred, torch.from_numpy(test.outputs).float()).mean())


def q1_galerkin(a: np.ndarray) -> np.ndarray:
    """Bilinear finite elements for ``-div(a grad u) = 1``, ``u = 0`` on the boundary, on the node grid of ``a``
    ``(m, m)`` with ``a`` per cell the mean of its four nodes: the weak form DGNO's loss discretises, solved."""
    m = a.shape[0]
    h = 1.0 / (m - 1)
    cell = (a[1:, 1:] + a[1:, :-1] + a[:-1, 1:] + a[:-1, :-1]).ravel() / 4
    local = np.array([[4, -1, -2, -1], [-1, 4, -1, -2], [-2, -1, 4, -1], [-1, -2, -1, 4]]) / 6.0  # Q1 stiffness
    index = np.arange(m * m).reshape(m, m)
    nodes = np.stack([index[:-1, :-1].ravel(), index[1:, :-1].ravel(), index[1:, 1:].ravel(),
                      index[:-1, 1:].ravel()], 1)  # counter-clockwise corners of each cell
    stiffness = sp.csr_matrix(((cell[:, None, None] * local).ravel(), (np.repeat(nodes, 4, axis=1).ravel(),
                               np.tile(nodes, (1, 4)).ravel())), shape=(m * m, m * m))
    load = np.zeros(m * m)
    np.add.at(load, nodes.ravel(), h * h / 4)
    inner = index[1:-1, 1:-1].ravel()
    u = np.zeros(m * m)
    u[inner] = spla.spsolve(stiffness[inner][:, inner].tocsc(), load[inner])
    return u.reshape(m, m)


def weak_table(test, fields: dict[str, np.ndarray], args) -> None:
    """Rel. L2 to the data and the mean squared relative weak residual (500 fixed test functions, the training
    radii) of each field on the test instances: which of them the weak-form loss prefers."""
    tests = WendlandTests(resolution=test.grid[0], count=500, radius=(0.08, 0.25)).draw(
        generator=torch.Generator().manual_seed(args.seed), dtype=torch.float64, device="cpu")
    a, u = torch.from_numpy(test.inputs), torch.from_numpy(test.outputs)
    print(f"\nweak form on the {test.n} test instances: 500 Wendland tests, radii 0.08-0.25\n")
    print("| field | rel. L2 to the data | mean R_psi^2 |")
    print("|---|---|---|")
    for name, v in fields.items():
        v = torch.from_numpy(np.asarray(v, dtype=np.float64))
        weak = float(darcy_weak_residual(v, a, tests).pow(2).mean())
        print(f"| {name} | {float(relative_l2(v, u).mean()):.4f} | {weak:.4f} |")


def predict(model, test) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(test.inputs).float()).double().numpy()


def fno_row(args, budget: float) -> tuple[float, float, int]:
    sets = [f"data.n_train={args.n_train}", "data.n_val=10", f"data.n_test={args.n_test}", *FNO]
    probe = physopt.learn("darcy", model="fno", epochs=1, seed=args.seed, overrides=sets)
    epochs = max(1, math.floor(budget / probe.report.cpu_time_s))
    res = physopt.learn("darcy", model="fno", epochs=epochs, seed=args.seed, overrides=sets)
    return res.report.tests["32x32"].mean, res.report.cpu_time_s, epochs


def invert(model, test, args, index: int):
    rng = np.random.default_rng([args.seed, index])
    m = test.grid[0]
    flat = rng.choice((m - 2) ** 2, size=args.sensors, replace=False)
    i, j = 1 + flat // (m - 2), 1 + flat % (m - 2)
    u = test.outputs[index, 0]
    clean = u[i, j]
    noise = args.noise * float(np.sqrt((clean**2).mean()))
    values = clean + noise * rng.standard_normal(args.sensors)
    points = torch.from_numpy(np.stack([i, j], 1) / (m - 1)).float()
    res = dgno_invert(model, points=points, values=torch.from_numpy(values).float(), noise=noise, steps=args.steps,
                      tests=WendlandTests(resolution=m, count=args.tests, radius=(0.08, 0.25)),
                      generator=torch.Generator().manual_seed(index))
    a_true = test.inputs[index, 0]
    a_rec = res.field[0, 0].double().numpy()
    rel = float(np.linalg.norm(a_rec - a_true) / np.linalg.norm(a_true))
    phase = float(((a_rec > 7.5) != (a_true > 7.5)).mean())
    u_rel = float(np.linalg.norm(res.solution[0, 0].double().numpy() - u) / np.linalg.norm(u))
    return rel, phase, u_rel, (a_true, a_rec, i, j)


def plot(path: str, a_true, a_rec, i, j, m, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
    for ax, img, name in zip(axes, (a_true, a_rec, np.abs(a_rec - a_true)), ("true a", "recovered a(beta*)", "|error|"),
                             strict=True):
        im = ax.imshow(img.T, origin="lower", extent=(0, 1, 0, 1), cmap="viridis")
        ax.set_title(name)
        fig.colorbar(im, ax=ax, fraction=0.046)
    axes[0].scatter(i / (m - 1), j / (m - 1), s=6, c="r", label="sensors")
    axes[0].legend(loc="upper right", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--n-train", type=int, default=400)
    p.add_argument("--labelled", type=int, default=20)
    p.add_argument("--n-test", type=int, default=50)
    p.add_argument("--latent", type=int, default=32)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--tests", type=int, default=200, help="test functions per step")
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--sensors", type=int, default=100)
    p.add_argument("--noise", type=float, default=0.01)
    p.add_argument("--steps", type=int, default=500, help="inverse-problem Adam steps")
    p.add_argument("--inverse", type=int, default=10, help="test instances inverted")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-fno", action="store_true")
    p.add_argument("--plot", default="")
    p.add_argument("--weak", action="store_true", help="the weak-form table (also trains DGNO on all labels)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    test = test_split(args)
    model, cpu = train_dgno(args, labelled=args.labelled)
    err = forward_error(model, test)
    print(f"  DGNO: rel L2 {err:.4f} in {cpu:.1f} CPU s", file=sys.stderr, flush=True)
    rows = [("DGNO (weak form + a few labels)", err, cpu, args.labelled)]
    if not args.no_fno:
        fno_err, fno_cpu, _ = fno_row(args, cpu)
        rows.append(("FNO (data)", fno_err, fno_cpu, args.n_train))
    t0 = time.process_time()
    inv = [invert(model, test, args, k) for k in range(args.inverse)]
    inv_cpu = (time.process_time() - t0) / args.inverse
    print(f"\ndarcy 32x32, {args.n_train} training fields, test: {args.n_test} instances "
          f"(physopt {physopt.__version__})\n")
    print("| method | test rel. L2 | training CPU s | labelled samples |")
    print("|---|---|---|---|")
    for name, e, c, n in rows:
        print(f"| {name} | {e:.4f} | {c:.1f} | {n} |")
    a_rel, phase, u_rel = (np.array([r[k] for r in inv]) for k in range(3))
    print(f"\ninverse: {args.inverse} test instances, {args.sensors} sensors, {100 * args.noise:g} % noise, "
          f"{args.steps} Adam steps ({inv_cpu:.1f} CPU s each)\n")
    print("| field rel. L2 (mean, median) | wrong-phase cells (mean) | u rel. L2 (mean) |")
    print("|---|---|---|")
    print(f"| {a_rel.mean():.3f}, {np.median(a_rel):.3f} | {100 * phase.mean():.1f} % | {u_rel.mean():.4f} |")
    if args.weak:
        data_model, data_cpu = train_dgno(args, labelled=None)
        print(f"\nDGNO on all {args.n_train} labels, no physics term: {data_cpu:.1f} CPU s")
        weak_table(test, {"the data (the family's solver)": test.outputs,
                          "Q1 Galerkin, cell-mean a (the weak form solved)": np.stack(
                              [q1_galerkin(a[0])[None] for a in test.inputs]),
                          f"DGNO, weak form + {args.labelled} labels": predict(model, test),
                          f"DGNO, {args.n_train} labels, no physics": predict(data_model, test),
                          "the training mean of u (data)": np.broadcast_to(
                              load_splits(resolve_learn("darcy", flags={"epochs": 1, "seed": args.seed}, overrides=[
                                  *dgno_sets(args, labelled=None), "model.kind=dgno"])).train.outputs.mean(0),
                              test.outputs.shape)}, args)
    if args.plot:
        a_true, a_rec, i, j = inv[0][3]
        plot(args.plot, a_true, a_rec, i, j, test.grid[0], f"DGNO inverse, darcy test 0: {args.sensors} sensors, "
             f"{100 * args.noise:g} % noise; field rel. L2 {a_rel[0]:.3f}, wrong phase {100 * phase[0]:.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
