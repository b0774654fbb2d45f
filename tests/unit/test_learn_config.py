"""LearnConfig resolution: tagged [model] over the operator kinds, union-typed options, optimizer switches."""

from __future__ import annotations

import tomllib

import pytest

from physopt.config import ConfigError, LearnConfig, dumps_toml, learn_from_dict, resolve_learn, to_dict


def test_union_options_keep_the_type_given():
    ints = resolve_learn("darcy", overrides=["model.kind=tfno", "model.rank=1", "model.modes=[8, 6]"]).model
    assert ints.rank == 1 and isinstance(ints.rank, int) and list(ints.modes) == [8, 6]
    frac = resolve_learn("darcy", overrides=["model.kind=tfno", "model.rank=0.5", "model.modes=8"]).model
    assert frac.rank == 0.5 and frac.modes == 8
    with pytest.raises(ConfigError, match=r"model.rank: expected float or int, got \[4, 4\]"):
        resolve_learn("darcy", overrides=["model.kind=tfno", "model.rank=[4, 4]"])


def test_changing_the_model_kind_drops_the_other_kinds_options():
    cfg = resolve_learn("darcy", flags={"model.kind": "deeponet"}, overrides=["model.basis=16"])
    assert cfg.model.kind == "deeponet" and cfg.model.basis == 16
    with pytest.raises(ConfigError, match="unknown config key 'model.modes'"):
        resolve_learn("darcy", flags={"model.kind": "deeponet"}, overrides=["model.modes=4"])
    with pytest.raises(ConfigError, match="unknown operator model 'unet'"):
        resolve_learn("darcy", flags={"model.kind": "unet"})


def test_another_optimizer_starts_from_its_recommended_settings():
    default = resolve_learn("darcy")
    assert default.optim.name == "adamw" and default.optim.options == {"weight_decay": 1e-4}
    muon = resolve_learn("darcy", flags={"optim.name": "muon"}, overrides=["optim.options.adamw_lr=0.002"])
    assert muon.optim.lr != default.optim.lr and "weight_decay" not in muon.optim.options
    assert muon.optim.options["adamw_lr"] == 0.002 and muon.optim.schedule == "cosine"


def test_learn_config_round_trips_through_toml():
    cfg = resolve_learn("x.npz", overrides=["model.kind=tfno", "model.modes=[4, 3]", "data.test_resolutions=[64]"])
    assert learn_from_dict(tomllib.loads(dumps_toml(to_dict(cfg)))) == cfg
    with pytest.raises(ConfigError, match="unknown config key"):
        learn_from_dict({**to_dict(LearnConfig()), "steps": 3})
