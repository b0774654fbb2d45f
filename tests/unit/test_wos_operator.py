"""WoS-NO (issue 16): the ``poisson-annulus`` family's closed form, Walk-on-Spheres unbiased against it,
and ``data.labels = "wos"`` replacing only the training outputs."""

import numpy as np
import pytest
import torch

from physopt.config import ConfigError, resolve_learn
from physopt.config._labels import wos_labels
from physopt.config._sources import load_splits
from physopt.operators import AnnulusOptions, family_options, load_family
from physopt.operators._annulus import annulus_instances, grid_nodes
from physopt.problems import walk_on_spheres


def _torch(fn):
    return lambda y: torch.from_numpy(fn(y.numpy()))


def test_closed_form_solves_the_poisson_problem():
    inst = annulus_instances(AnnulusOptions(), seed=3, indices=[0])[0]
    rng = np.random.default_rng(0)
    theta, rho = rng.uniform(0, 2 * np.pi, 50), rng.uniform(0.17, 0.43, 50)
    x = 0.5 + rho[:, None] * np.stack([np.cos(theta), np.sin(theta)], 1)
    e = 1e-3
    lap = sum(inst.solution(x + e * v) + inst.solution(x - e * v) - 2 * inst.solution(x) for v in np.eye(2)) / e**2
    # central differences: O(e^2 |u''''|) ~ 1e-6 * k^4 ~ 4e-3 truncation, plus 1e-16 / e^2 rounding
    np.testing.assert_allclose(-lap, inst.source(x), atol=2e-2)
    assert np.abs(inst.source(x)).max() > 1.0  # a nontrivial source (so the check above can fail)
    on = inst.project(x)  # g is u on the circles
    np.testing.assert_allclose(inst.boundary(on), inst.solution(on), atol=1e-12)
    np.testing.assert_allclose(inst.distance(on), 0.0, atol=1e-12)


def test_walk_on_spheres_is_unbiased_against_the_closed_form():
    inst = annulus_instances(AnnulusOptions(), seed=0, indices=[5])[0]
    nodes = grid_nodes(17)
    x = nodes[inst.mask(nodes)]
    mean, se = walk_on_spheres(torch.from_numpy(x), distance=_torch(inst.distance), boundary=_torch(inst.boundary),
                               source=_torch(inst.source), walks=2000, epsilon=1e-5,
                               generator=torch.Generator().manual_seed(1))
    z = ((mean.numpy() - inst.solution(x)) / se.numpy())
    # each estimate is a mean of 2000 i.i.d. walks, ~normal: over ~80 points max |z| < 4.5 w.p. > 0.999;
    # the eps-shell bias (g read at the projection, O(1e-5 |grad u|)) is far below se ~ 1e-2
    assert np.abs(z).max() < 4.5
    assert abs(z.mean()) < 4.5 / np.sqrt(len(z))  # no common bias: the mean z is N(0, 1/n)
    assert 0.5 < (z**2).mean() < 1.6  # the reported standard errors are the right size (chi^2_n / n, n ~ 80)


def _cfg(labels, **extra):
    sets = ["data.n_train=4", "data.n_val=1", "data.n_test=2", "data.resolution=17", f"data.labels={labels}"]
    return resolve_learn("poisson-annulus", overrides=sets + [f"{k}={v}" for k, v in extra.items()])


def test_wos_labels_replace_only_the_training_outputs(tmp_path):
    exact = load_splits(_cfg("solver", **{"data.cache": str(tmp_path)}))
    wos = load_splits(_cfg("wos", **{"data.cache": str(tmp_path), "data.walks": 64}))
    np.testing.assert_array_equal(wos.train.inputs, exact.train.inputs)
    np.testing.assert_array_equal(wos.val.outputs, exact.val.outputs)
    for label in exact.tests:
        np.testing.assert_array_equal(wos.tests[label].outputs, exact.tests[label].outputs)
    inside = exact.train.inputs[:, 2:3] > 0
    err = (wos.train.outputs - exact.train.outputs)[inside]
    scale = np.abs(exact.train.outputs[inside]).mean()
    assert np.all(wos.train.outputs[~inside] == 0)
    assert 0 < np.sqrt((err**2).mean()) < 0.2 * scale  # noisy (64 walks: ~5 % of |u|), not exact
    assert abs(err.mean()) < 4 * err.std() / np.sqrt(err.size)  # and unbiased
    again = load_splits(_cfg("wos", **{"data.cache": str(tmp_path), "data.walks": 64}))
    np.testing.assert_array_equal(again.train.outputs, wos.train.outputs)  # seeded by (seed, instance)


def test_wos_labels_errors(tmp_path):
    with pytest.raises(ConfigError, match="data.labels must be one of solver, wos, got 'mc'"):
        load_splits(_cfg("mc", **{"data.cache": str(tmp_path)}))
    with pytest.raises(ConfigError, match="data.walks must be an integer >= 2"):
        load_splits(_cfg("wos", **{"data.cache": str(tmp_path), "data.walks": 1}))
    data = load_family("poisson-2d", n=2, resolution=9, seed=0)
    with pytest.raises(ConfigError, match="'poisson-2d' has none"):
        wos_labels(data, family="poisson-2d", options=family_options("poisson-2d"), seed=0, indices=range(2), walks=4)
    path = data.save(tmp_path / "d.npz")
    cfg = resolve_learn(str(path), overrides=["data.labels=wos"])
    with pytest.raises(ConfigError, match="is a data file"):
        load_splits(cfg)


def test_annulus_options_are_checked():
    with pytest.raises(ValueError, match="0 < r_in < r_out <= 0.5"):
        AnnulusOptions(r_in=0.3, r_out=0.2)
    with pytest.raises(ValueError, match="waves must be an int"):
        AnnulusOptions(waves=0)


def test_learn_runs_on_wos_labels(tmp_path):
    import physopt

    res = physopt.learn("poisson-annulus", model="fno", epochs=1, overrides=[
        "data.n_train=4", "data.n_val=1", "data.n_test=2", "data.resolution=17", "data.labels=wos", "data.walks=4",
        "model.modes=4", "model.width=8", f"data.cache={tmp_path}", "plots=0"])
    assert res.report.n_train == 4 and np.isfinite(res.report.rel_l2)
    assert res.config.data.labels == "wos" and res.config.data.walks == 4
