"""Stop training cleanly on SIGTERM / Ctrl-C, at a step boundary, so nothing is half-written."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback


@contextlib.contextmanager
def signal_handlers(
    handler: Callable[[int, FrameType | None], Any], signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)
) -> Iterator[None]:
    """``handler`` for ``signals`` during the block, the previous handlers restored after it (the one
    way the package installs handlers; in a thread other than the main one, where Python allows no
    handler, the block runs unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class StopWhenRequested(BaseCallback):
    """Callback that ends ``learn()`` at the next step once ``requested()`` is true (a hyperparameter
    search's Ctrl-C: the handler sets a flag, the running trial stops at a step boundary)."""

    def __init__(self, requested: Callable[[], bool], verbose: int = 0) -> None:
        super().__init__(verbose)
        self.requested = requested

    def _on_step(self) -> bool:
        return not self.requested()


class StopTrainingOnSignal(BaseCallback):
    """Callback that ends ``learn()`` after the current environment step once a signal arrived.

    With :meth:`handle_signals`, the first SIGTERM or SIGINT only sets a flag: the rollout stops
    at the next step, ``learn()`` returns normally and the caller saves the model (and replay
    buffer with its priorities) as after a finished run. A second SIGINT interrupts at once
    (``KeyboardInterrupt``), as usual.
    """

    def __init__(self, verbose: int = 1) -> None:
        super().__init__(verbose)
        self.received: int | None = None

    def request_stop(self, signum: int) -> None:
        """Ask training to stop at the next step (what the signal handler does)."""
        self.received = signum

    def _on_step(self) -> bool:
        if self.received is not None:
            if self.verbose:
                name = signal.Signals(self.received).name
                print(f"{name} received: stopping training at timestep {self.num_timesteps}", file=sys.stderr)
            return False
        return True

    @contextlib.contextmanager
    def handle_signals(self) -> Iterator[StopTrainingOnSignal]:
        """Install the SIGTERM/SIGINT handlers for the duration of the block (main thread only)."""

        def handler(signum: int, frame: FrameType | None) -> None:
            if self.received is not None and signum == signal.SIGINT:
                raise KeyboardInterrupt
            self.request_stop(signum)

        with signal_handlers(handler):
            yield self
