"""Every zoo problem builds, samples inside its domain, has an exact ansatz, and trains for 50 steps."""

import importlib
import math

import numpy as np
import pytest
import torch

import physopt
from physopt.config import ModelConfig, RunConfig, build
from physopt.models import MLP, HardConstraint
from physopt.problems import ZOO, Problem, SpaceTime, available, get
from physopt.problems.zoo import QUANTUM_WELL_ENERGY
from physopt.training import Parameters

NAMES = sorted(ZOO)
MODULES = {
    "burgers": "_burgers", "poisson2d": "_poisson", "helmholtz2d": "_helmholtz", "convection": "_convection",
    "convection-50": "_convection", "diffusion-reaction": "_diffusion_reaction", "wave": "_wave",
    "quantum-well": "_quantum_well", "quantum-well-fixed-e": "_quantum_wells", "quantum-finite-well": "_quantum_wells",
    "quantum-barrier": "_quantum_wells", "allen-cahn": "_allen_cahn", "allen-cahn-deepxde": "_allen_cahn",
    "kovasznay": "_kovasznay", "kdv": "_kdv",
    "cavity": "_cavity", "poisson-nd": "_sdgd", "allen-cahn-nd": "_sdgd", "p-laplacian": "_p_laplacian",
    "burgers-inverse": "_inverse", "lotka-volterra-inverse": "_inverse", "kovasznay-inverse": "_inverse",
    "elastic-waves": "_elastic_waves", "navier-stokes-inverse": "_ns_inverse",
    "poisson-field-inverse": "_field_inverse", "poisson1d-hf": "_high_frequency",
    "poisson2d-multiscale": "_high_frequency", "taylor-green": "_taylor_green",
}


def test_registry():
    expected = {"burgers", "poisson2d", "helmholtz2d", "convection", "convection-50", "diffusion-reaction",
                "wave", "quantum-well", "allen-cahn", "allen-cahn-deepxde", "kovasznay", "kdv"}
    assert expected <= set(available())
    assert set(MODULES) == set(NAMES), "add new zoo problems to MODULES"


@pytest.mark.parametrize("name", NAMES)
def test_builds_with_metadata(name):
    p = get(name)
    assert isinstance(p, Problem)
    assert p.name == name
    assert p.description and "\n" not in p.description
    assert set(p.sizes) == set(p.conditions)
    assert "pde" in p.conditions
    assert p.reference is not None and p.reference.source
    assert p.reference.grid_shape is not None
    assert math.prod(p.reference.grid_shape) == p.reference.points.shape[0]
    assert p.domain.contains(torch.as_tensor(p.reference.points)).all()
    doc = importlib.import_module(f"physopt.problems.zoo.{MODULES[name]}").__doc__
    assert doc and "Reference" in doc


def test_convection_beta():
    assert get("convection").params["beta"] == 30.0
    assert get("convection-50").params["beta"] == 50.0


@pytest.mark.parametrize("name", NAMES)
def test_conditions_sample_inside_the_domain(name):
    p = get(name)
    gen = torch.Generator().manual_seed(0)
    for cname, cond in p.conditions.items():
        batch = cond.sample(p.domain, 64, generator=gen, dtype=torch.float64)
        for key in ("x", "x_pair"):
            if key in batch:
                x = batch[key]
                assert x.shape[1] == p.domain.dim
                assert p.domain.contains(x).all(), f"{name}: {cname} {key} outside the domain"
        if isinstance(p.domain, SpaceTime) and cond.kind == "initial":
            assert torch.all(batch["x"][:, -1] == p.domain.time.t0)


@pytest.mark.parametrize("name", [n for n in NAMES if get(n).ansatz is not None])
def test_ansatz_satisfies_enforced_conditions_for_a_random_network(name):
    p = get(name)
    gen = torch.Generator().manual_seed(3)
    net = MLP(in_dim=p.input_dim, out_dim=p.output_dim, width=16, depth=3, bounds=p.domain.bounds, generator=gen)
    # Random, not small, weights: the enforced conditions must hold whatever N is.
    with torch.no_grad():
        for w in net.parameters():
            w.normal_(0.0, 1.0, generator=gen)
    model = HardConstraint(net, lift=p.ansatz.lift, distance=p.ansatz.distance)
    # Constants, unknowns at their initial values and unknown fields as a run builds them.
    params = Parameters.create(constants=p.params, unknowns=p.unknowns, fields=p.fields, bounds=p.domain.bounds,
                               generator=gen, dtype=torch.float64, device=torch.device("cpu"))
    assert p.ansatz.enforces
    for cname in p.ansatz.enforces:
        cond = p.conditions[cname]
        batch = cond.sample(p.domain, 128, generator=gen, dtype=torch.float64)
        r = cond.residual(model, batch, params).detach()
        assert r.abs().max().item() < 1e-12, f"{name}: {cname} residual {r.abs().max().item():.2e}"
    # ... and it is not trivially zero elsewhere: the PDE residual of a random network is O(1).
    batch = p.conditions["pde"].sample(p.domain, 128, generator=gen, dtype=torch.float64)
    assert p.conditions["pde"].residual(model, batch, params).detach().abs().max().item() > 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_training_smoke(name):
    result = physopt.solve(name, steps=50, overrides=["model.depth=2", "model.width=8"])
    assert math.isfinite(result.metrics["rel_l2"])
    assert math.isfinite(result.metrics["final_loss"])


def _train_quantum_well(seed, steps):
    b = build(RunConfig(problem="quantum-well", seed=seed, constraints="hard", model=ModelConfig(width=16, depth=2)))
    energy = b.params["E"]
    opt = torch.optim.Adam([*b.model.parameters(), energy], lr=1e-2)
    for step in range(steps):
        loss = b.objective.loss(*b.objective.terms(b.model, b.sampler.batch(step), b.params))
        opt.zero_grad()
        loss.backward()
        assert energy.grad is not None and energy.grad.abs().item() > 0
        opt.step()
    ref = b.problem.reference
    with torch.no_grad():
        pred = b.model(torch.as_tensor(ref.points)).numpy()
    return energy.item(), float(np.linalg.norm(pred - ref.values) / np.linalg.norm(ref.values))


def test_quantum_well_energy_is_trained():
    energy, _ = _train_quantum_well(0, 20)
    assert energy != 10.0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_quantum_well_finds_the_positive_ground_state(seed):
    # Measured (1500 Adam steps, lr 1e-2, 2 x 16 tanh, hard ansatz): |E - π²| <= 1.4e-3, rel L2 <= 1.4e-4.
    energy, rel = _train_quantum_well(seed, 1500)
    assert abs(energy - QUANTUM_WELL_ENERGY) < 1e-2
    assert rel < 1e-2
