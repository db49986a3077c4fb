"""Training metrics written to ``metrics.yml`` at regular intervals (the thesis project kept one per trial).

``MetricsCallback`` records, every ``interval`` steps: the mean episode reward and length of
the last episodes, and the latest training values the algorithm logged (loss, mean/max Q,
mean ``|TD error|`` and the replay priorities with PER's beta for ``ddqn_prio``/``split_q``/SB3's
DQN family; policy/value losses and the mean
value for ``a3c``/A2C/PPO). The whole file is rewritten at every record, so an interrupted run
keeps everything up to its last interval. Under ``rl_zoo3.train --optimize`` the RL Zoo bridge
adds one per trial (``metrics.yml`` next to the trial's model) and stores the last record as the
trial's Optuna user attribute ``metrics``. In a yaml, for a normal run:
``callback: [{sb3_atari_ext.common.metrics.MetricsCallback: {path: logs/metrics}}]``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from sb3_atari_ext.common.atomic import atomic_write

# logger key -> metrics.yml key
TRAIN_KEYS = {
    "train/loss": "loss",
    "train/q_mean": "q_mean",
    "train/q_max": "q_max",
    "train/td_abs_mean": "td_error",
    "train/q_reward_mean": "q_reward_mean",
    "train/q_punish_mean": "q_punish_mean",
    "train/value_loss": "value_loss",
    "train/policy_loss": "policy_loss",
    "train/policy_gradient_loss": "policy_loss",
    "train/entropy_loss": "entropy_loss",
    "train/mean_value": "value_mean",
    "train/explained_variance": "explained_variance",
    "train/beta": "per_beta",
    "train/priority_mean": "priority_mean",
    "train/priority_max_raw": "priority_max",
}


class MetricsCallback(BaseCallback):
    """Write ``metrics.yml`` (a list of records) every ``interval`` environment steps.

    :param path: folder of ``metrics.yml`` (created)
    :param interval: environment steps (over all envs) between records
    :param trial: an Optuna trial; its user attribute ``metrics`` gets the last record
    :param verbose: SB3 verbosity
    """

    def __init__(self, path: str, interval: int = 1000, trial: Any = None, verbose: int = 0) -> None:
        super().__init__(verbose)
        if interval < 1:
            raise ValueError(f"MetricsCallback interval must be >= 1, got {interval}")
        self.path = path
        self.interval = interval
        self.trial = trial
        self.records: list[dict[str, float]] = []
        self._latest: dict[str, float] = {}
        self._next = interval

    @property
    def file(self) -> str:
        return os.path.join(self.path, "metrics.yml")

    def _on_training_start(self) -> None:
        os.makedirs(self.path, exist_ok=True)
        self._next = self.num_timesteps + self.interval

    def _on_step(self) -> bool:
        values = self.model.logger.name_to_value
        for key, name in TRAIN_KEYS.items():
            value = values.get(key)  # .get: the logger's dict is a defaultdict
            if value is not None:
                self._latest[name] = float(value)
        if self.num_timesteps >= self._next:
            self._next = self.num_timesteps + self.interval
            self.record()
        return True

    def _on_training_end(self) -> None:
        if not self.records or self.records[-1]["timesteps"] != self.num_timesteps:
            self.record()

    def record(self) -> dict[str, float]:
        """Append one record and rewrite ``metrics.yml``."""
        import yaml

        entry: dict[str, float] = {"timesteps": int(self.num_timesteps)}
        episodes = list(self.model.ep_info_buffer or [])
        if episodes:
            entry["episode_reward"] = float(np.mean([e["r"] for e in episodes]))
            entry["episode_length"] = float(np.mean([e["l"] for e in episodes]))
        entry.update({k: round(v, 6) for k, v in self._latest.items()})
        self.records.append(entry)
        with atomic_write(self.file) as tmp, open(tmp, "w") as f:  # never a half-written file
            yaml.safe_dump(self.records, f, sort_keys=False)
        if self.trial is not None:
            self.trial.set_user_attr("metrics", entry)
        return entry
