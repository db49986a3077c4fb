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


def _parts(reward: float, info: dict[str, Any]) -> tuple[float, float]:
    return info.get("reward_parts", (max(reward, 0.0), min(reward, 0.0)))


class DeathPenalty(gym.Wrapper):
    """Subtract ``penalty`` from the reward whenever a life is lost (``info["lives"]`` drops).

    The MsPacman project's "death tax" (default 500 there). The penalty also goes to the negative part of
    ``info["reward_parts"]`` for ``split_q``. Use it after ``AtariWrapper`` (lives are read
    per agent step).

    :param env: an env whose ``info`` has ``lives`` (ALE envs do)
    :param penalty: amount subtracted per life lost (>= 0)
    """

    def __init__(self, env: gym.Env, penalty: float = 500.0) -> None:
        super().__init__(env)
        if not np.isfinite(penalty) or penalty < 0:
            raise ValueError(f"DeathPenalty: penalty must be a finite number >= 0, got {penalty!r}")
        self.penalty = float(penalty)
        self._lives: int | None = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._lives = info.get("lives")
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        reward = float(reward)
        lives = info.get("lives")
        if lives is None:
            raise ValueError("DeathPenalty needs info['lives'] (an ALE environment)")
        positive, negative = _parts(reward, info)
        if self._lives is not None and lives < self._lives:
            lost = self._lives - lives
            reward -= self.penalty * lost
            negative -= self.penalty * lost
        self._lives = lives
        info["reward_parts"] = (positive, negative)
        return obs, reward, terminated, truncated, info


class RewardMultiplier(gym.Wrapper):
    """Multiply the rewards of a chosen event: every reward >= ``min_reward`` (and <= ``max_reward``).

    The MsPacman project's ghost bonus: MsPacman pays 200/400/800/1600 for eaten ghosts and at most 50 for
    anything else but fruit, so ``min_reward: 200`` picks the ghosts.

    :param env: the environment
    :param multiplier: factor applied to the chosen rewards
    :param min_reward: smallest reward of the event
    :param max_reward: largest reward of the event (none by default)
    """

    def __init__(
        self, env: gym.Env, multiplier: float = 2.0, min_reward: float = 200.0, max_reward: float = float("inf")
    ) -> None:
        super().__init__(env)
        if not np.isfinite(multiplier):
            raise ValueError(f"RewardMultiplier: multiplier must be finite, got {multiplier!r}")
        self.multiplier, self.min_reward, self.max_reward = float(multiplier), float(min_reward), float(max_reward)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        reward = float(reward)
        positive, negative = _parts(reward, info)
        if self.min_reward <= reward <= self.max_reward:
            extra = reward * (self.multiplier - 1.0)
            reward += extra
            positive, negative = (positive + extra, negative) if extra >= 0 else (positive, negative + extra)
        info["reward_parts"] = (positive, negative)
        return obs, reward, terminated, truncated, info


def clip(reward: float, info: dict[str, Any], state: dict[str, Any]) -> float:
    """The sign of the reward (-1, 0 or 1), DQN's Atari reward clipping, as a reward function
    (``env_wrapper: [{RewardFunction: {reward_fn: clip}}]``)."""
    return float(np.sign(reward))


class RewardFunction(gym.Wrapper):
    """Reward shaping by a named function that a plugin registered (``register_reward_functions``).

    The function is called as ``fn(reward, info, state, **kwargs)`` every step, where ``state`` is
    a dict kept for the episode (``state["lives"]`` holds the lives before the step). It returns
    the new reward, or a ``(positive, negative)`` pair, whose sum becomes the reward and which is
    kept in ``info["reward_parts"]`` for ``split_q``.

    :param env: the environment
    :param reward_fn: registered name, e.g. ``"mspacman.ghost_bonus"``
    :param kwargs: keyword arguments for the function
    """

    def __init__(self, env: gym.Env, reward_fn: str, **kwargs: Any) -> None:
        super().__init__(env)
        from sb3_atari_ext.plugins import get_registry

        self.fn = get_registry().get("reward_functions", reward_fn)
        self.reward_fn, self.kwargs = reward_fn, kwargs
        self.state: dict[str, Any] = {}

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self.state = {"lives": info.get("lives")}
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        result = self.fn(float(reward), info, self.state, **self.kwargs)
        self.state["lives"] = info.get("lives")
        if isinstance(result, tuple):
            positive, negative = (float(v) for v in result)
        else:
            positive, negative = max(float(result), 0.0), min(float(result), 0.0)
        info["reward_parts"] = (positive, negative)
        return obs, positive + negative, terminated, truncated, info
