"""Reward wrappers: keep the positive and negative parts of the reward apart for ``split_q``."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np


class SplitReward(gym.Wrapper):
    """Put ``(positive, negative)`` reward parts in ``info["reward_parts"]``, then clip if asked.

    Split-Q needs the signed reward split **before** any clipping: use it instead of the
    clipping of SB3's ``AtariWrapper`` (``{AtariWrapper: {clip_reward: False}}, SplitReward``).
    The parts come from an inner wrapper's ``info["reward_parts"]`` when one set them (reward
    functions of plugins do), else from the sign of the reward.

    :param env: the environment
    :param clip: clip each part to its sign (+1/0 and -1/0) and the returned reward to its sign,
        as DQN's reward clipping does (Mnih et al. 2015), but per stream
    """

    def __init__(self, env: gym.Env, clip: bool = True) -> None:
        super().__init__(env)
        self.clip = clip

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        reward = float(reward)
        positive, negative = info.get("reward_parts", (max(reward, 0.0), min(reward, 0.0)))
        if self.clip:
            positive, negative = float(np.sign(positive)), float(np.sign(negative))
            reward = float(np.sign(reward))
        info["reward_parts"] = (float(positive), float(negative))
        return obs, reward, terminated, truncated, info
