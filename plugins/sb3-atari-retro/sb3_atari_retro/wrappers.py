"""Atari-style preprocessing for retro games: discrete actions, frame skip, 84x84 gray, clipping.

``RetroPreprocessing`` is the retro counterpart of SB3's ``AtariWrapper`` (same frame skip with
max-pooling, same ``WarpFrame`` resize, same reward clipping, and a ``done`` on life loss when
the game's info has ``lives``), so the Atari networks and hyperparameters apply unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# NOOP, the four directions, each fire button, and moving while firing: a small action set that
# works for shooters and platformers on the Genesis pad (B, A, C) and the NES/SNES pads (B, A).
DEFAULT_COMBOS: tuple[tuple[str, ...], ...] = (
    (),
    ("LEFT",),
    ("RIGHT",),
    ("UP",),
    ("DOWN",),
    ("B",),
    ("A",),
    ("C",),
    ("LEFT", "B"),
    ("RIGHT", "B"),
    ("UP", "B"),
    ("DOWN", "B"),
)


class Discretizer(gym.ActionWrapper):
    """Turn a retro ``MultiBinary`` pad into ``Discrete(len(combos))`` button combinations.

    :param env: a stable-retro env
    :param combos: button-name lists; names the console's pad lacks are dropped, and combos
        that become duplicates are kept once
    """

    def __init__(self, env: gym.Env, combos: Sequence[Sequence[str]] | None = None) -> None:
        super().__init__(env)
        buttons = list(getattr(env.unwrapped, "buttons", []))
        if not isinstance(env.action_space, spaces.MultiBinary) or not buttons:
            raise ValueError(f"Discretizer needs a stable-retro env with a MultiBinary pad, got {env.action_space}")
        unknown = {b for combo in combos or () for b in combo} - set(buttons) - set(b for c in DEFAULT_COMBOS for b in c)
        if unknown:
            raise ValueError(f"unknown buttons {sorted(unknown)}; this pad has {buttons}")
        self.combos: list[tuple[str, ...]] = []
        self._arrays: list[np.ndarray] = []
        for combo in combos if combos is not None else DEFAULT_COMBOS:
            kept = tuple(b for b in combo if b in buttons)
            if kept in self.combos:
                continue
            array = np.zeros(len(buttons), dtype=np.int8)
            for b in kept:
                array[buttons.index(b)] = 1
            self.combos.append(kept)
            self._arrays.append(array)
        self.action_space = spaces.Discrete(len(self._arrays))

    def action(self, action: int) -> np.ndarray:
        return self._arrays[int(action)].copy()

    def get_action_meanings(self) -> list[str]:
        return ["+".join(c) or "NOOP" for c in self.combos]


class _LifeLoss(gym.Wrapper):
    """``terminated`` when ``info["lives"]`` drops; the game goes on (reset after a life loss is a no-op step)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.lives = 0
        self.game_over = True

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.game_over = terminated or truncated
        lives = int(info.get("lives", 0))
        if 0 < lives < self.lives:
            terminated = True
        self.lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        if self.game_over:
            obs, info = self.env.reset(**kwargs)
        else:
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        self.lives = int(info.get("lives", 0))
        self.game_over = False
        return obs, info


class RetroPreprocessing(gym.Wrapper):
    """Discrete actions + SB3's frame skip, 84x84 grayscale warp and reward clipping.

    :param env: a stable-retro env (``retro/<Game>-v0``)
    :param combos: button combinations for :class:`Discretizer` (default: ``DEFAULT_COMBOS``)
    :param frame_skip: frames per action, max-pooled over the last two (as ``AtariWrapper``)
    :param screen_size: side of the square grayscale frame
    :param terminal_on_life_loss: ``done`` when ``info["lives"]`` drops
    :param clip_reward: rewards -> their sign
    """

    def __init__(
        self,
        env: gym.Env,
        combos: Sequence[Sequence[str]] | None = None,
        frame_skip: int = 4,
        screen_size: int = 84,
        terminal_on_life_loss: bool = True,
        clip_reward: bool = True,
    ) -> None:
        from stable_baselines3.common.atari_wrappers import ClipRewardEnv, MaxAndSkipEnv, WarpFrame

        wrapped: gym.Env = Discretizer(env, combos)
        if frame_skip > 1:
            wrapped = MaxAndSkipEnv(wrapped, skip=frame_skip)
        if terminal_on_life_loss:
            wrapped = _LifeLoss(wrapped)
        wrapped = WarpFrame(wrapped, width=screen_size, height=screen_size)
        if clip_reward:
            wrapped = ClipRewardEnv(wrapped)
        super().__init__(wrapped)
