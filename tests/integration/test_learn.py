"""`physopt learn` end to end on small user data: run directory, resume, load/predict, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import physopt
from physopt.cli import main


def _antiderivative(n, grid, seed=0):
    """f = Σ a_k sin(kπx) → u = ∫₀ˣ f (closed form), sampled on ``grid`` points of [0, 1]."""
    x = np.linspace(0, 1, grid)
    a = np.random.default_rng(seed).normal(size=(n, 4))
    k = np.arange(1, 5)
    f = np.einsum("nk,kx->nx", a, np.sin(np.pi * k[:, None] * x))
    u = np.einsum("nk,kx->nx", a / (np.pi * k), 1 - np.cos(np.pi * k[:, None] * x))
    return f[:, None], u[:, None]


@pytest.fixture
def data(tmp_path):
    f, u = _antiderivative(60, 16)
    np.savez(tmp_path / "train.npz", inputs=f, outputs=u)
    f2, u2 = _antiderivative(10, 32, seed=1)
    np.savez(tmp_path / "fine.npz", inputs=f2, outputs=u2)
    return tmp_path


ARGS = ["--model", "local", "--epochs", "3", "--batch-size", "10", "--quiet", "--set", "threads=1",
        "--set", "model.width=16"]


def test_learn_writes_a_run_directory_and_load_predicts_at_another_grid(data, capsys):
    out = data / "run"
    code = main(["learn", str(data / "train.npz"), "--test", str(data / "fine.npz"), "--out", str(out), "--json",
                 *ARGS])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["tests"]) == {"16", "file:fine.npz"}
    assert report["tests"]["file:fine.npz"]["zero_shot"] and not report["tests"]["16"]["zero_shot"]
    assert (report["n_train"], report["n_val"], report["tests"]["16"]["n"]) == (48, 6, 6)  # 80/10/10 % of 60
    assert report["steps"] == 3 * 5 and report["params"] > 0
    for name in ("config.toml", "checkpoint.pt", "metrics.jsonl", "report.md", "samples.png", "training.png"):
        assert (out / name).is_file(), name
    sol = physopt.load(out)
    f, _ = _antiderivative(3, 32, seed=2)
    assert sol.predict(f).shape == (3, 1, 32)
    run = physopt.learn(str(data / "train.npz"), model="local", epochs=3, batch_size=10,
                        overrides=["threads=1", "model.width=16"])
    x = np.load(data / "train.npz")["inputs"][:4]
    assert np.allclose(sol.predict(x), run.model(torch.as_tensor(x, dtype=torch.float32)).detach().double().numpy(),
                       rtol=1e-6, atol=1e-7)  # same seed, same run: float32 round-off only


def test_resume_equals_the_uninterrupted_run(data, stop_at):
    common = dict(model="local", epochs=4, batch_size=10,
                  overrides=["threads=1", "model.width=16", "checkpoint_every=5"])
    full = physopt.learn(str(data / "train.npz"), out=data / "full", **common)
    part = physopt.learn(str(data / "train.npz"), out=data / "part", callbacks=[stop_at(7)], **common)
    assert part.status == "interrupted" and part.report.steps == 7
    resumed = physopt.resume(data / "part")
    assert resumed.report.steps == full.report.steps == 20
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    assert resumed.report.rel_l2 == full.report.rel_l2


def test_a_data_factory_file_is_a_source(tmp_path):
    src = tmp_path / "make.py"
    src.write_text("import numpy as np\n"
                   "def make(n=30):\n"
                   "    x = np.random.default_rng(0).normal(size=(n, 1, 8))\n"
                   "    return x, 2 * x\n")
    run = physopt.learn(f"{src}:make", model="local", epochs=1, overrides=["threads=1", "family.n=20"])
    assert run.report.n_train == 16 and run.report.status == "completed"


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"inputs": np.zeros((5, 1, 8)), "outputs": np.zeros((4, 1, 8))}, "same number of samples, got 5 and 4"),
        ({"inputs": np.zeros((5, 8)), "outputs": np.zeros((5, 8))}, "with at least one grid axis"),
        ({"inputs": np.full((5, 1, 8), np.nan), "outputs": np.zeros((5, 1, 8))}, "non-finite"),
        ({"inputs": np.zeros((5, 1, 8, 8, 8, 8)), "outputs": np.zeros((5, 1, 8, 8, 8, 8))}, "takes 1-D/2-D/3-D"),
    ],
)
def test_bad_data_is_one_line_exit_2_and_leaves_no_run_directory(tmp_path, capsys, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    code = main(["learn", str(tmp_path / "bad.npz"), "--out", str(tmp_path / "run"), *ARGS])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_split_that_does_not_fit_is_refused(data, capsys):
    code = main(["learn", str(data / "train.npz"), "--set", "data.n_train=100", *ARGS])
    assert code == 2 and "holds 60 samples" in capsys.readouterr().err


def test_predict_refuses_wrong_shapes(data):
    physopt.learn(str(data / "train.npz"), model="local", epochs=1, out=data / "r",
                  overrides=["threads=1", "model.width=8"])
    sol = physopt.load(data / "r")
    with pytest.raises(ValueError, match=r"inputs must have shape \(n, 1, 1 grid axes\), got \(2, 3, 16\)"):
        sol.predict(np.zeros((2, 3, 16)))
    with pytest.raises(ValueError, match="predicts on grids, not at query points"):
        sol.predict(np.zeros((2, 1, 16)), points=np.zeros((4, 1)))


def test_a_diverging_run_exits_3_naming_the_step_and_keeps_the_first_checkpoint(data, capsys):
    out = data / "div"
    code = main(["learn", str(data / "train.npz"), "--optimizer", "sgd", "--set", "optim.lr=1e30", "--out", str(out),
                 *ARGS])
    err = capsys.readouterr().err
    assert code == 3 and "non-finite values at step" in err and "'data'" in err
    assert json.loads((out / "report.json").read_text())["status"] == "diverged"
    state = torch.load(out / "checkpoint.pt", weights_only=False)["trainer"]
    assert state["step"] == 0  # the step-0 checkpoint: never overwritten by a diverged state


FAMILY = ["data.n_train=16", "data.n_val=4", "data.n_test=4", "data.resolution=32", "threads=1"]


def test_a_family_run_tests_zero_shot_and_a_deeponet_predicts_at_query_points(tmp_path):
    cache = f"data.cache={tmp_path / 'cache'}"
    fno = physopt.learn("antiderivative", model="fno", epochs=1, out=tmp_path / "fno",
                        overrides=[*FAMILY, cache, "data.test_resolutions=[64]", "model.modes=4", "model.width=8"])
    tests = fno.report.tests
    assert set(tests) == {"32", "64"} and tests["64"].zero_shot and not tests["32"].zero_shot
    assert fno.report.solver_s is not None and fno.report.solver_s > 0
    don = physopt.learn("antiderivative", model="deeponet", epochs=1, out=tmp_path / "don",
                        overrides=[*FAMILY, cache, "model.width=16", "model.basis=8"])
    sol = physopt.load(tmp_path / "don")
    a = np.random.default_rng(0).normal(size=(2, 1, 32))
    q = np.linspace(0, 1, 32)[:, None]
    assert np.allclose(sol.predict(a, points=q), sol.predict(a)[:, :, :], rtol=1e-5, atol=1e-6)  # grid = query
    with pytest.raises(ValueError, match="takes inputs on its training grid 32, got 64"):
        sol.predict(np.zeros((1, 1, 64)))
    assert don.report.rel_l2 is not None


def test_a_model_that_cannot_predict_off_its_grid_is_refused_zero_shot_tests(tmp_path, capsys):
    code = main(["learn", "antiderivative", "--model", "deeponet", "--quiet", "--out", str(tmp_path / "r"),
                 *[a for s in FAMILY for a in ("--set", s)], "--set", f"data.cache={tmp_path / 'cache'}",
                 "--set", "data.test_resolutions=[64]"])
    err = capsys.readouterr().err
    assert code == 2 and "predicts only on its training grid" in err and not (tmp_path / "r").exists()
