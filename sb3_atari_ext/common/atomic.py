"""Files a user can lose are written whole or not at all, and signals wait for the write.

- :func:`atomic_write`: write to a temporary file in the same folder, flush and fsync, then
  rename it over the target (a rename within one file system is atomic): a crash, a kill or a
  full disk leaves the previous file or the new one, never a truncated one.
- :func:`deferred_signals`: SIGINT and SIGTERM that arrive inside the block are held by the
  kernel and delivered when it ends, so a second Ctrl-C cannot cut a save in half.
- :class:`AtomicSaveMixin`: ``save`` and ``save_replay_buffer`` of an SB3 algorithm, both atomic
  and signal-safe (our algorithms use it; RL Zoo's checkpoints call ``save``).
"""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import re
import signal
import threading
from collections.abc import Iterator
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback

HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT/SIGTERM until the block ends (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def with_suffix_like_sb3(path: str | os.PathLike[str], suffix: str) -> pathlib.Path:
    """The file SB3 writes for ``path``: ``.suffix`` is appended when the name has no suffix."""
    path = pathlib.Path(path)
    return path if path.suffix else pathlib.Path(f"{path}.{suffix}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[pathlib.Path]:
    """Yield a temporary path next to ``path``; on success fsync it and rename it to ``path``."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """``path.write_text(text)``, atomically (see :func:`atomic_write`): a reader sees the old file or
    the new one, never half of one."""
    with atomic_write(path) as tmp:
        tmp.write_text(text)


_TEMPORARY = re.compile(r"^\..+\.(\d+)\.tmp(\.[^.]+)?$")


def remove_stale_temporaries(root: str | os.PathLike[str]) -> list[pathlib.Path]:
    """Remove the temporary files of :func:`atomic_write` under ``root`` whose writing process no
    longer runs (a run killed with SIGKILL mid-save leaves one, as big as a replay buffer: GBs on
    Atari). Files of a live process are kept. Returns what was removed."""
    removed = []
    for candidate in pathlib.Path(root).rglob(".*.tmp*"):
        match = _TEMPORARY.match(candidate.name)
        if match is None or not candidate.is_file() or _process_alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            candidate.unlink()
            removed.append(candidate)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _fsync_dir(folder: pathlib.Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class AtomicSaveMixin:
    """``save`` / ``save_replay_buffer`` that write atomically and hold signals while writing."""

    def save(self, path: str | pathlib.Path | io.BufferedIOBase, *args: Any, **kwargs: Any) -> None:
        if isinstance(path, io.IOBase):
            return super().save(path, *args, **kwargs)  # type: ignore[misc]
        with deferred_signals(), atomic_write(with_suffix_like_sb3(path, "zip")) as tmp:
            super().save(tmp, *args, **kwargs)  # type: ignore[misc]

    def save_replay_buffer(self, path: str | pathlib.Path | io.BufferedIOBase) -> None:
        if isinstance(path, io.IOBase):
            return super().save_replay_buffer(path)  # type: ignore[misc]
        with deferred_signals(), atomic_write(with_suffix_like_sb3(path, "pkl")) as tmp:
            super().save_replay_buffer(tmp)  # type: ignore[misc]


class ReplayCheckpointCallback(BaseCallback):
    """Write the model's replay buffer (with priorities) atomically every ``save_freq`` calls.

    RL Zoo's checkpoints save only the model; with this next to them a killed run (SIGKILL, a
    lost machine) loses at most one interval of replay. The file is overwritten each time: its
    size is the buffer's (up to ~7 GB for a full 1M-transition Atari buffer), written once per
    interval.

    :param path: the ``replay_buffer.pkl`` to write (where ``rl_zoo3.train -i`` looks for it)
    :param save_freq: calls (vectorized steps) between saves
    """

    def __init__(self, path: str | os.PathLike[str], save_freq: int, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.path, self.save_freq = pathlib.Path(path), max(int(save_freq), 1)

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0 and getattr(self.model, "replay_buffer", None) is not None:
            from stable_baselines3.common.save_util import save_to_pkl

            with deferred_signals(), atomic_write(self.path) as tmp:
                save_to_pkl(tmp, self.model.replay_buffer, self.verbose)
            if self.verbose:
                print(f"Saving replay buffer checkpoint to {self.path}")
        return True


class AtomicCheckpointCallback(CheckpointCallback):
    """SB3's ``CheckpointCallback`` (what RL Zoo's ``--save-freq`` uses) with every file it writes
    (model, replay buffer, VecNormalize) written atomically, for any algorithm (SB3's too), and
    SIGINT/SIGTERM held while it writes: a kill never leaves a truncated ``rl_model_*_steps.zip``
    for ``-i`` to pick up."""

    _stack: contextlib.ExitStack | None = None

    def _checkpoint_path(self, checkpoint_type: str = "", extension: str = "") -> str:
        final = super()._checkpoint_path(checkpoint_type, extension)
        if self._stack is None:
            return final
        return str(self._stack.enter_context(atomic_write(final)))

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq != 0:
            return True
        with deferred_signals(), contextlib.ExitStack() as stack:
            self._stack = stack
            try:
                return super()._on_step()
            finally:
                self._stack = None

    @classmethod
    def like(cls, callback: CheckpointCallback) -> AtomicCheckpointCallback:
        """The same checkpoints as ``callback``, written atomically."""
        return cls(
            save_freq=callback.save_freq,
            save_path=callback.save_path,
            name_prefix=callback.name_prefix,
            save_replay_buffer=callback.save_replay_buffer,
            save_vecnormalize=callback.save_vecnormalize,
            verbose=callback.verbose,
        )
