"""Atari wrappers from the Space Invaders DDQN project: a meaningful subset of actions, and frame skipping.

Both are plain ``gymnasium`` wrappers, registered through ``register_wrappers`` so RL Zoo yaml
can name them (``env_wrapper: [stable_baselines3.common.atari_wrappers.AtariWrapper,
{ActionSubset: {actions: [NOOP, FIRE, RIGHT, LEFT]}}]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces


def action_meanings(env: gym.Env) -> list[str]:
    """The game's action names (``NOOP``, ``FIRE``, ...), from the ALE env under the wrappers."""
    unwrapped = env.unwrapped
    if not hasattr(unwrapped, "get_action_meanings"):
        raise ValueError(f"ActionSubset needs an ALE (Atari) environment, got {type(unwrapped).__name__}")
    return list(unwrapped.get_action_meanings())


class ActionSubset(gym.ActionWrapper):
    """Keep only the named actions of the game's action set, in the given order.

    The Space Invaders DDQN project plays Space Invaders with FIRE, RIGHT, LEFT, RIGHTFIRE, LEFTFIRE. Actions are chosen
    by meaning, not by index, so one list works across games that have those actions. Put it
    after SB3's ``AtariWrapper`` (whose fire-on-reset step uses the game's own FIRE index).

    :param env: an ALE environment (possibly wrapped)
    :param actions: action names, e.g. ``["NOOP", "FIRE", "RIGHT", "LEFT"]`` (case-insensitive)
    """

    def __init__(self, env: gym.Env, actions: Sequence[str]) -> None:
        super().__init__(env)
        meanings = action_meanings(env)
        if isinstance(actions, str) or not actions:
            raise ValueError(f"ActionSubset needs a non-empty list of action names; the game's actions are {meanings}")
        unknown = [a for a in actions if str(a).upper() not in meanings]
        if unknown:
            raise ValueError(
                f"ActionSubset: unknown action(s) {unknown} for {env.spec.id if env.spec else 'this game'}; "
                f"valid actions are {meanings}"
            )
        if len({str(a).upper() for a in actions}) != len(actions):
            raise ValueError(f"ActionSubset: actions must not repeat, got {list(actions)}")
        self.actions = [str(a).upper() for a in actions]
        self.indices = np.array([meanings.index(a) for a in self.actions], dtype=np.int64)
        self.action_space = spaces.Discrete(len(self.indices))

    def action(self, action: int) -> int:
        return int(self.indices[int(action)])

    def get_action_meanings(self) -> list[str]:
        return list(self.actions)


class SkipFrame(gym.Wrapper):
    """Repeat each action ``skip`` times and sum the rewards.

    For envs that are not already frame-skipped (retro games, ``ALE/...-v5`` with
    ``frameskip=1``). Stops early when the episode ends. The Space Invaders DDQN project's version returned only the last
    frame's reward; this one sums them (the standard definition, Mnih et al. 2015).

    :param env: the environment
    :param skip: how many frames each action lasts (>= 1)
    :param max_pool: return the pixel-wise max of the last two frames (removes Atari flicker)
    """

    def __init__(self, env: gym.Env, skip: int = 4, max_pool: bool = False) -> None:
        super().__init__(env)
        if int(skip) != skip or skip < 1:
            raise ValueError(f"SkipFrame: skip must be an integer >= 1, got {skip!r}")
        self.skip, self.max_pool = int(skip), max_pool

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        total = 0.0
        parts = np.zeros(2)
        has_parts = False
        last_two: list[Any] = []
        for _ in range(self.skip):
            obs, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            if "reward_parts" in info:  # split rewards of inner shaping wrappers add up too
                parts += info["reward_parts"]
                has_parts = True
            last_two = [*last_two[-1:], obs]
            if terminated or truncated:
                break
        if has_parts:
            info["reward_parts"] = (float(parts[0]), float(parts[1]))
        if self.max_pool and len(last_two) == 2:
            obs = np.maximum(last_two[0], last_two[1])
        return obs, total, terminated, truncated, info
