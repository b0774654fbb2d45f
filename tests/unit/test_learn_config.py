"""LearnConfig resolution: tagged [model] over the operator kinds, union-typed options, optimizer switches."""

from __future__ import annotations

import copy
import tomllib

import pytest

from physopt.config import (
    LEARN_DEFAULTS,
    ConfigError,
    LearnConfig,
    dumps_toml,
    learn_from_dict,
    recommended_optim,
    resolve_learn,
    to_dict,
)
from physopt.models import operator_spec
from physopt.operators import FAMILIES


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


def test_family_defaults_sit_between_the_field_defaults_and_the_user():
    cfg = resolve_learn("antiderivative")
    want = LEARN_DEFAULTS["antiderivative"]
    assert cfg.model.kind == want["model"]["kind"] and cfg.model.width == want["model"]["width"]
    assert cfg.epochs == want["epochs"] and cfg.optim.lr == want["optim"]["lr"]
    assert "poisson-2d" not in LEARN_DEFAULTS  # no entry: the field defaults
    assert resolve_learn("poisson-2d").model == LearnConfig().model
    user = resolve_learn("antiderivative", flags={"epochs": 7}, overrides=["model.width=9", "optim.lr=0.5"])
    assert (user.epochs, user.model.width, user.optim.lr) == (7, 9, 0.5)
    fno = resolve_learn("antiderivative", flags={"model.kind": "fno"})  # the default kind's options are dropped
    assert fno.model == operator_spec("fno").config()
    assert resolve_learn("antiderivative", overrides=["model.kind=multionet"]).model == operator_spec(
        "multionet").config()
    muon = resolve_learn("antiderivative", flags={"optim.name": "muon"})
    assert muon.optim.lr == recommended_optim("muon")["lr"] and muon.optim.schedule == want["optim"]["schedule"]


@pytest.mark.parametrize("family", sorted(LEARN_DEFAULTS))
def test_every_family_default_is_a_valid_config_for_its_family(family):
    assert family in FAMILIES
    cfg = resolve_learn(family)
    spec = operator_spec(cfg.model.kind)
    assert FAMILIES[family].dim in spec.dims
    assert learn_from_dict(tomllib.loads(dumps_toml(to_dict(cfg)))) == cfg


def test_resolving_never_changes_the_family_defaults():
    before = copy.deepcopy(LEARN_DEFAULTS)
    resolve_learn("antiderivative", flags={"model.kind": "fno"}, overrides=["optim.lr=0.5"])
    resolve_learn("darcy", flags={"model.kind": "deeponet", "epochs": 3})
    assert before == LEARN_DEFAULTS


def test_a_kind_given_after_its_options_keeps_them():
    from physopt.config import resolve_learn

    before = resolve_learn("darcy", overrides=["model.kind=tfno", "model.width=8"])
    after = resolve_learn("darcy", overrides=["model.width=8", "model.kind=tfno"])
    assert after.model.kind == "tfno" and after.model.width == 8 and after == before
