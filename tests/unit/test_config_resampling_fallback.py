"""A problem tuned with resampled points (Burgers' RAD) keeps a fixed set where multipliers need one."""

from __future__ import annotations

import pytest

from physopt.config import PROBLEM_DEFAULTS, ConfigError, load_problem, resolve
from physopt.config import build as build_run


def test_burgers_default_resamples_by_rad():
    cfg = resolve("burgers")
    tuned = PROBLEM_DEFAULTS["burgers"]["sampler"]
    assert (cfg.sampler.method, cfg.sampler.resample_every) == ("rad", tuned["resample_every"])


@pytest.mark.parametrize("how", [{"flags": {"constraints": "alm"}}, {"overrides": ["constraints=lagrangian"]},
                                 {"overrides": ["constraints=penalty", "roles.bc=alm"]}])
def test_multipliers_fall_back_to_the_fixed_sobol_set(how):
    cfg = resolve("burgers", **how)
    assert (cfg.sampler.method, cfg.sampler.resample_every) == ("sobol", 0)
    assert cfg.sampler.sizes == PROBLEM_DEFAULTS["burgers"]["sampler"]["sizes"]  # the rest of the table stays
    build_run(cfg, load_problem("burgers", {}))  # builds: before the fallback this raised "need a fixed point set"


def test_penalty_keeps_rad():
    assert resolve("burgers", flags={"constraints": "penalty"}).sampler.method == "rad"


def test_a_users_own_resampling_is_not_overridden():
    cfg = resolve("burgers", overrides=["constraints=alm", "sampler.resample_every=100"])
    assert (cfg.sampler.method, cfg.sampler.resample_every) == ("rad", 100)
    with pytest.raises(ConfigError, match="fixed point set"):
        build_run(cfg, load_problem("burgers", {}))
