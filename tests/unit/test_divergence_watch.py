"""The deferred non-finite check: a loss term names its first bad step; a parameter that turns
non-finite after the last loss evaluation is named with the steps it went bad between."""

import torch

from physopt.config import build, make_optimizer, resolve
from physopt.training import Trainer


class _BreaksOnThirdStep(torch.optim.SGD):
    def step(self, closure=None):
        loss = super().step(closure)
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls == 3:  # after the loss of step index 2 was computed: only the parameters show it
            with torch.no_grad():
                self.param_groups[0]["params"][0].fill_(float("inf"))
        return loss


def _trainer(factory, steps, log_every):
    cfg = resolve("poisson2d", overrides=["optim.name=adam", "model.depth=2", "sampler.sizes.pde=64"])
    b = build(cfg)
    return Trainer(model=b.model, objective=b.objective, sampler=b.sampler, phases=b.phases,
                   make_optimizer=factory, params=b.params, steps=steps, log_every=log_every, eval_every=100)


def test_a_parameter_gone_bad_is_named_with_the_steps_it_went_bad_between():
    res = _trainer(lambda phase, params: _BreaksOnThirdStep(params, lr=1e-3), steps=3, log_every=3).run()
    assert res.status == "diverged"
    assert "parameter 'net.layers.0.weight' between steps 0 and 3" in res.message, res.message


def test_a_bad_loss_term_is_named_with_its_first_step_and_where_it_was_found():
    res = _trainer(lambda phase, params: _BreaksOnThirdStep(params, lr=1e-3), steps=8, log_every=8).run()
    assert res.status == "diverged"
    assert "at step 3 in loss term(s) 'pde' (found at the check after step 8)" in res.message, res.message
    ok = _trainer(make_optimizer, steps=4, log_every=2).run()
    assert ok.status == "completed"
