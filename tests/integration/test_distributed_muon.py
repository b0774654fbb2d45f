"""Distributed Muon/NorMuon: 2 gloo ranks sharing the Newton–Schulz work equal one process.

Every rank gets the same gradients (a loss on the same full batch), so any difference would come
from the sharing: who orthogonalises which matrix, the exchange, and same-shape stacking within a
rank's share instead of over all matrices.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from physopt.optim import assign_by_cost, newton_schulz_cost

SRC = str(Path(__file__).resolve().parents[2] / "src")

SCRIPT = r'''
import json, sys
import torch
import torch.distributed as dist
import physopt.optim as po

def run(name):
    torch.manual_seed(0)
    # Shapes that differ in cost (square hidden layers, thin ends, a repeated shape that stacks, and a
    # matrix large enough that one process orthogonalises it in a call of its own).
    model = torch.nn.Sequential(torch.nn.Linear(3, 24), torch.nn.Tanh(), torch.nn.Linear(24, 24), torch.nn.Tanh(),
                                torch.nn.Linear(24, 24), torch.nn.Tanh(), torch.nn.Linear(24, 40), torch.nn.Tanh(),
                                torch.nn.Linear(40, 520), torch.nn.Tanh(),  # > STACK_MAX_NUMEL: its own chunk alone
                                torch.nn.Linear(520, 2)).double()
    opt = po.build(name, model, lr=0.02, adamw_lr=1e-3)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 3, generator=g, dtype=torch.float64)
    y = torch.randn(64, 2, generator=g, dtype=torch.float64)
    for _ in range(50):
        opt.zero_grad(set_to_none=True)
        (model(x) - y).square().mean().backward()
        opt.step()
    return [p.detach().reshape(-1).tolist() for p in model.parameters()]

if __name__ == "__main__":
    out = sys.argv[1]
    if len(sys.argv) > 2:
        dist.init_process_group("gloo")
    result = {name: run(name) for name in ("muon", "normuon")}
    rank = dist.get_rank() if dist.is_initialized() else 0
    with open(f"{out}.{rank}.json", "w") as f:
        json.dump(result, f)
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
'''


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_assign_by_cost_balances_and_is_deterministic():
    costs = [newton_schulz_cost(s) for s in [(512, 512)] * 3 + [(512, 2), (2, 512), (512, 2048)]]
    owner = assign_by_cost(costs, 2)
    load = [sum(c for c, r in zip(costs, owner, strict=True) if r == k) for k in (0, 1)]
    # LPT on these: the 512x2048 matrix (cost 4·512²·2048 + 2·512³) alone vs the three squares.
    assert owner[5] != owner[0] and max(load) / min(load) < 1.2
    assert assign_by_cost(costs, 2) == owner  # the same on every rank
    assert newton_schulz_cost((3, 5)) == 4 * 9 * 5 + 2 * 27
    assert newton_schulz_cost((8, 2, 3, 3)) == newton_schulz_cost((8, 18))  # conv kernels flattened
    assert assign_by_cost(costs, 1) == [0] * 6


@pytest.mark.slow
def test_two_rank_muon_and_normuon_equal_single_process_over_50_steps(tmp_path):
    script = tmp_path / "muon_run.py"
    script.write_text(SCRIPT)
    out = str(tmp_path / "res")
    subprocess.run([sys.executable, str(script), out + "-single"], env=_env(), check=True, timeout=300)
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           str(script), out + "-dist", "dist"], env=_env(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    single = json.loads(Path(out + "-single.0.json").read_text())
    ranks = [json.loads(Path(f"{out}-dist.{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0] == ranks[1]  # both ranks hold the same parameters, bit for bit
    for name in ("muon", "normuon"):
        for a, b in zip(single[name], ranks[0][name], strict=True):
            # float64 over 50 steps: the bound (stacking within a share may reorder sums).
            torch.testing.assert_close(torch.tensor(b), torch.tensor(a), rtol=1e-12, atol=1e-12)
        assert single[name] != json.loads(Path(out + "-single.0.json").read_text())["muon" if name == "normuon"
                                                                                    else "normuon"]
