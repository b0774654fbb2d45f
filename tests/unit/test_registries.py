"""Registries instead of branches: model kinds, methods and constraint modes are looked up, and a
new entry works without touching :func:`physopt.config.build`."""

import dataclasses

import pytest
import torch

import physopt
from physopt.config import (
    CONSTRAINTS,
    METHODS,
    ConfigError,
    MethodSpec,
    apply_overrides,
    build,
    dumps_toml,
    from_dict,
    merge,
    resolve,
    to_dict,
)
from physopt.models import MLP, MODELS, BuiltModel, ModelSpec


def test_model_is_a_tagged_table_that_round_trips_through_toml():
    cfg = resolve("poisson2d")
    assert cfg.model.kind == "mlp" and cfg.model.width == 20
    text = dumps_toml(to_dict(cfg))
    assert '[model]\nkind = "mlp"' in text
    import tomllib

    assert from_dict(tomllib.loads(text)) == cfg


def test_unknown_model_kind_and_keys_of_another_kind_are_refused():
    with pytest.raises(ConfigError, match="model.kind: unknown model kind 'fno'"):
        resolve("poisson2d", overrides=["model.kind=fno"])
    with pytest.raises(ConfigError, match="unknown config key"):
        resolve("poisson2d", overrides=["model.modes=4"])


def test_changing_the_kind_drops_the_old_kinds_options():
    base = {"model": {"kind": "mlp", "width": 30}}
    assert merge(base, {"model": {"depth": 3}}) == {"model": {"kind": "mlp", "width": 30, "depth": 3}}
    assert merge(base, {"model": {"kind": "other", "modes": 4}}) == {"model": {"kind": "other", "modes": 4}}


@dataclasses.dataclass(frozen=True)
class _TinyConfig:
    kind: str = "tiny"
    width: int = 3


def _tiny(options, *, problem, out_dim, generator, dtype):
    net = MLP(in_dim=problem.input_dim, out_dim=out_dim, width=options.width, depth=1, activation="tanh",
              bounds=problem.domain.bounds, generator=generator, dtype=dtype)
    return BuiltModel(net)


def test_a_new_model_kind_is_one_registry_entry(monkeypatch):
    monkeypatch.setitem(MODELS, "tiny", ModelSpec(_tiny, _TinyConfig, summary="test kind", pointwise=False))
    cfg = resolve("poisson2d", overrides=["model.kind=tiny", "model.width=5", "steps=3"])
    assert cfg.model == _TinyConfig(width=5)
    b = build(cfg)
    assert sum(p.numel() for p in b.model.parameters()) == 2 * 5 + 5 + 5 + 1  # 2->5->1
    # a non-pointwise kind is refused by the least-squares optimizers, which slice points into blocks
    with pytest.raises(ConfigError, match="pointwise model"):
        build(resolve("poisson2d", overrides=["model.kind=tiny", "optim.name=engd"]))


def test_a_new_method_is_one_registry_entry(monkeypatch):
    def doubled(problem, cfg):  # the PDE residual counted twice: the loss is 4x the plain PINN's
        pde = problem.conditions["pde"]
        return dataclasses.replace(problem, conditions={
            **problem.conditions, "pde": dataclasses.replace(pde, fn=lambda x, u, p: 2 * pde.fn(x, u, p))})

    monkeypatch.setitem(METHODS, "doubled", MethodSpec("test", doubled))
    plain = physopt.solve("poisson2d", steps=1, overrides=["constraints=penalty"])
    twice = physopt.solve("poisson2d", steps=1, method="doubled", overrides=["constraints=penalty"])
    assert twice.history[0]["loss/pde"] == pytest.approx(4 * plain.history[0]["loss/pde"], rel=1e-12)


def test_unknown_method_and_constraint_mode_name_the_known_ones():
    with pytest.raises(ConfigError, match="method must be one of pinn, lpinn, ritz, wos"):
        build(resolve("poisson2d", overrides=["method=magic"]))
    with pytest.raises(ConfigError, match="constraints must be one of " + ", ".join(CONSTRAINTS)):
        build(resolve("poisson2d", overrides=["constraints=magic"]))


def test_set_applies_typed_values_inside_the_tagged_table():
    data = apply_overrides(to_dict(resolve("poisson2d")), ["model.width=7", "model.periodic=false"])
    assert data["model"]["width"] == 7 and data["model"]["periodic"] is False
    with pytest.raises(ConfigError, match="model.width: expected an integer"):
        apply_overrides(data, ["model.width=wide"])


def test_sdgd_with_engd_slices_points_not_the_sampled_dimensions():
    # ENGD builds its Jacobian from blocks of points; the SDGD dimensions are batch metadata and
    # stay whole (before the typed batch, the block slicing cut them and the run failed).
    r = physopt.solve("poisson-nd", optimizer="engd", steps=3,
                      overrides=["problem.dim=6", "sdgd.dims=2", "model.width=8", "model.depth=2",
                                 "sampler.sizes.pde=40", "eval_every=3"])
    assert r.status == "completed" and r.report.rel_l2 is not None and torch.isfinite(torch.tensor(r.report.rel_l2))
