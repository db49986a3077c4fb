"""The one helper that installs signal handlers: installed for the block, restored after it (also
when the block raises), a no-op outside the main thread, where Python allows no handler."""

import os
import signal
import threading

import pytest

from sb3_atari_ext.common.signals import signal_handlers


def test_handlers_are_installed_for_the_block_and_restored_after_it():
    received = []
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(RuntimeError), signal_handlers(lambda signum, _: received.append(signum)):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        raise RuntimeError("the block fails")
    assert received == [signal.SIGTERM, signal.SIGINT]
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_outside_the_main_thread_the_block_runs_unchanged():
    ran, errors = [], []

    def worker():
        try:
            with signal_handlers(lambda signum, _: None, (signal.SIGTERM,)):
                ran.append(True)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert ran == [True] and errors == []
