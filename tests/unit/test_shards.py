"""Sampling shards and the torchrun environment, in one process (the 2-process runs are in
tests/integration/test_distributed.py)."""

import pytest
import torch

from physopt.config import ConfigError, build, resolve
from physopt.problems import Dirichlet, Interval, Problem, Residual, ops
from physopt.runtime import Runtime, launch_from_env
from physopt.training import Sampler, ShardedSampler
from physopt.training._shards import owned_shards


def _problem() -> Problem:
    return Problem(name="p", domain=Interval(0.0, 1.0), input_names=("x",), output_names=("u",),
                   conditions={"pde": Residual(lambda x, u, p: ops.partial(u, x, 0, 0)), "bc": Dirichlet(0.0)},
                   sizes={"pde": 8, "bc": 2})


def test_launch_from_env():
    assert launch_from_env({}) is None  # not under torchrun
    launch = launch_from_env({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"})
    assert (launch.rank, launch.world_size, launch.local_rank) == (1, 2, 1)
    with pytest.raises(ValueError, match="LOCAL_RANK missing"):
        launch_from_env({"RANK": "0", "WORLD_SIZE": "2"})
    with pytest.raises(ValueError, match="inconsistent"):
        launch_from_env({"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0"})
    with pytest.raises(ValueError, match="integers"):
        launch_from_env({"RANK": "a", "WORLD_SIZE": "2", "LOCAL_RANK": "0"})


def test_owned_shards():
    assert owned_shards(4, rank=1, world_size=2) == range(2, 4)
    assert owned_shards(2, rank=0, world_size=1) == range(0, 2)
    with pytest.raises(ValueError, match="does not split over 3 processes"):
        owned_shards(2, rank=0, world_size=3)


def test_one_process_with_two_shards_holds_both_shards_points_in_order():
    rt = Runtime()
    sharded = ShardedSampler(_problem(), sizes={"pde": 8, "bc": 2}, shards=2, seed=5, runtime=rt)
    batch = sharded.batch(0)
    parts = [Sampler(_problem(), sizes={"pde": 4, "bc": 1}, generator=rt.sampling_generator(5, shard=s)).batch(0)
             for s in (0, 1)]
    for name in ("pde", "bc"):
        assert torch.equal(batch[name].x, torch.cat([p[name].x for p in parts]))
    assert not torch.equal(parts[0]["pde"].x, parts[1]["pde"].x)  # distinct generators per shard
    # Shard 0 is what a 1-shard sampler with the same seed draws (its generator is seeded with the seed itself).
    assert torch.equal(rt.sampling_generator(5, shard=0).get_state(), rt.sampling_generator(5).get_state())
    state = sharded.state_dict()
    assert state["shards"] == 2 and sorted(state["states"]) == [0, 1]
    again = ShardedSampler(_problem(), sizes={"pde": 8, "bc": 2}, shards=2, seed=99, runtime=rt)
    again.load_state_dict(state)
    assert torch.equal(again.batch(0)["pde"].x, batch["pde"].x)
    # A warm-up prefix takes the first n/S points of every shard.
    head = sharded.prefix(batch, {"pde": 4})["pde"].x
    assert torch.equal(head, torch.cat([parts[0]["pde"].x[:2], parts[1]["pde"].x[:2]]))


def test_shard_settings_that_cannot_work_are_refused():
    with pytest.raises(ValueError, match="do not split into 2 equal shards"):
        ShardedSampler(_problem(), sizes={"pde": 7, "bc": 2}, shards=2, seed=0, runtime=Runtime())
    with pytest.raises(ValueError, match="'rar' adds the globally worst points"):
        ShardedSampler(_problem(), sizes={"pde": 8}, shards=2, seed=0, runtime=Runtime(), method="rar",
                       resample_every=5)
    cfg = resolve("poisson2d", flags={}, overrides=["sampler.shards=2", "sampler.sizes.pde=301"])
    with pytest.raises(ConfigError, match="sampler: sizes"):
        build(cfg)
