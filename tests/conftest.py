"""Fixtures shared by every test directory."""

import pytest


class StopAt:
    """Callback that simulates Ctrl-C at ``step`` (graceful stop + checkpoint) or, with
    ``kill=True``, a kill (an exception: no final checkpoint)."""

    def __init__(self, step, *, kill=False):
        self.step, self.kill = step, kill

    def on_record(self, trainer, record):
        pass

    def on_step(self, trainer):
        if trainer.step == self.step:
            if self.kill:
                raise KeyboardInterrupt
            trainer.request_stop()

    def on_end(self, trainer, result):
        pass


@pytest.fixture
def stop_at():
    """``stop_at(step, kill=False)``: a :class:`StopAt` callback for resume tests."""
    return StopAt
