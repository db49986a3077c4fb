"""``SplitRewardReplayBuffer``: prioritized replay that keeps rewards and punishments apart.

Split-Q learning (``split_q``) learns one Q stream from the positive part of the reward and one
from the negative part, so the buffer stores both parts of every transition. They come from
``info["reward_parts"] = (positive, negative)`` when the env provides it (the ``SplitReward``
wrapper and the reward functions of reward-shaping plugins do), otherwise from the sign of the
scalar reward. Sampled batches carry ``rewards`` of shape ``[batch, 2]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecNormalize

from sb3_atari_ext.buffers.prioritized import PrioritizedReplayBuffer
from sb3_atari_ext.common.validation import HyperparameterError


class SplitRewardReplayBuffer(PrioritizedReplayBuffer):
    """:class:`PrioritizedReplayBuffer` storing ``(positive, negative)`` reward parts (1-step only).

    Same arguments as :class:`PrioritizedReplayBuffer`; ``n_steps`` must be 1.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("n_steps", 1) != 1:
            raise HyperparameterError("n_steps", kwargs["n_steps"], "1 (split-Q uses one-step targets per stream)")
        super().__init__(*args, **kwargs)

    @property
    def bytes_per_transition(self) -> int:
        return super().bytes_per_transition + 8

    def _allocate(self) -> None:
        super()._allocate()
        self.reward_parts = np.zeros((self.buffer_size, self.n_envs, 2), dtype=np.float32)

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        pos = self.pos
        super().add(obs, next_obs, action, reward, done, infos)
        rewards = np.asarray(reward, dtype=np.float32).reshape(-1)
        for env, info in enumerate(infos):
            parts = info.get("reward_parts")
            if parts is None:
                parts = (max(rewards[env], 0.0), min(rewards[env], 0.0))
            self.reward_parts[pos, env] = parts

    def _rewards_at(self, batch_inds: np.ndarray, env_indices: np.ndarray, env: VecNormalize | None) -> np.ndarray:
        return self.reward_parts[batch_inds, env_indices]
