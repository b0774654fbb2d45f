"""Runtime: device parsing refuses what this machine lacks; generators per rank; batches on the device."""

import pytest
import torch

from physopt.problems import Points, get
from physopt.runtime import Runtime, parse_device


def test_parse_device_accepts_cpu_and_refuses_unknown_or_missing_devices():
    assert parse_device("cpu") == torch.device("cpu")
    assert parse_device(" CPU ") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        parse_device("gpu")
    with pytest.raises(ValueError, match="unknown device 'cuda:x'"):
        parse_device("cuda:x")
    if not torch.cuda.is_available():  # this machine: no GPU, so cuda is refused, never a silent CPU run
        with pytest.raises(ValueError, match="no CUDA GPU"):
            parse_device("cuda")
        with pytest.raises(ValueError, match="no CUDA GPU"):
            parse_device("cuda:1")
    else:
        with pytest.raises(ValueError, match="CUDA GPU"):
            parse_device(f"cuda:{torch.cuda.device_count()}")


def test_runtime_validates_its_fields():
    with pytest.raises(ValueError, match="rank"):
        Runtime(rank=2, world_size=2)
    with pytest.raises(ValueError, match="dtype"):
        Runtime(dtype=torch.int64)
    with pytest.raises(ValueError, match="torch.device"):
        Runtime(device="cpu")  # a string: use parse_device


def test_sampling_generators_rank_zero_keeps_the_seed_other_ranks_differ():
    r0, r1, r1b = Runtime(rank=0, world_size=2), Runtime(rank=1, world_size=2), Runtime(rank=1, world_size=2)
    plain = torch.Generator().manual_seed(123)
    assert torch.equal(torch.rand(5, generator=r0.sampling_generator(123)), torch.rand(5, generator=plain))
    a, b = torch.rand(5, generator=r1.sampling_generator(123)), torch.rand(5, generator=r1b.sampling_generator(123))
    assert torch.equal(a, b)  # deterministic in (seed, rank)
    assert not torch.equal(a, torch.rand(5, generator=r0.sampling_generator(123)))
    # the model generator is the same on every rank (every rank starts from the same weights)
    assert torch.equal(torch.rand(3, generator=r0.model_generator()), torch.rand(3, generator=r1.model_generator()))


def test_every_zoo_condition_samples_points_on_the_generator_device():
    # meta tensors stand in for an accelerator: any tensor created without the generator's device
    # would land on the CPU and fail the check (or the op would refuse mixed devices).
    gen = torch.Generator(device="cpu").manual_seed(0)
    for name in ("burgers", "poisson2d", "kovasznay", "quantum-well", "allen-cahn"):
        p = get(name)
        for cname, cond in p.conditions.items():
            pts = cond.sample(p.domain, 16, generator=gen, dtype=torch.float64)
            assert isinstance(pts, Points), (name, cname)
            assert all(t.device == gen.device for t in (pts.x, *pts.fields.values(), *pts.meta.values()))
