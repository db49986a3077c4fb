"""The part every single-process vectorized-env backend shares (``register_vec_envs`` backends).

A backend that steps all its games in one process (envpool's or ale-py's C++ pools, the MinAtar
plugin's loop over games) has no per-env ``Monitor`` and no per-env gymnasium object to forward
``get_attr`` / ``env_method`` to: it keeps Monitor's episode statistics itself and writes them to
one ``<backend>.monitor.csv``, and answers the few per-env queries SB3 and RL Zoo make.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices


class BatchedVecEnv(VecEnv):
    """Base of the single-process backends: Monitor file, per-env attributes, wrapper queries.

    Subclasses set ``backend`` (the ``vec_env`` name, also the Monitor file's name) and
    ``env_id``, call :meth:`_open_monitor` in ``__init__`` and :meth:`_write_episode` for each
    finished episode, and implement SB3's ``reset`` / ``step_async`` / ``step_wait``.
    """

    #: the backend's name: ``vec_env: <name>`` and the Monitor file's name
    backend = "batched"
    env_id: str

    def _open_monitor(self, monitor_dir: str | None) -> None:
        """Start the episode clock; with ``monitor_dir``, open ``<monitor_dir>/<backend>.monitor.csv``."""
        self._t_start = time.time()
        self._writer = None
        if monitor_dir is not None:
            from stable_baselines3.common.monitor import ResultsWriter

            os.makedirs(monitor_dir, exist_ok=True)
            self._writer = ResultsWriter(
                os.path.join(monitor_dir, self.backend), header={"t_start": self._t_start, "env_id": self.env_id}
            )

    def _write_episode(self, episode: dict[str, Any]) -> None:
        if self._writer is not None:
            self._writer.write_row(episode)

    def _close_monitor(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        n = len(self._get_indices(indices))
        if attr_name == "render_mode":
            return [None] * n
        if attr_name == "spec":
            import gymnasium as gym

            return [gym.spec(self.env_id)] * n
        raise AttributeError(f"{type(self).__name__} has no per-env attribute {attr_name!r}")

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError(f"{type(self).__name__} cannot set {attr_name!r} on {self.backend} environments")

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        raise AttributeError(f"{type(self).__name__} cannot call {method_name!r} on {self.backend} environments")

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        from stable_baselines3.common.monitor import Monitor

        # Monitor's episode statistics are reproduced here, so evaluate_policy counts real episodes.
        return [wrapper_class is Monitor] * len(self._get_indices(indices))

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None] * self.num_envs
