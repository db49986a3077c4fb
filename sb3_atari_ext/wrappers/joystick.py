"""``Joystick``: a continuous x/y stick mapped to the game's discrete joystick actions.

The MsPacman project played MsPacman with PPO on a joystick: x and y in [-1, 1], a dead zone of 0.5,
y > 0.5 up, y < -0.5 down, x > 0.5 right, x < -0.5 left, combined into the game's actions.
With it, SB3's ``PPO``/``SAC`` (continuous actions) can play Atari games through RL Zoo.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sb3_atari_ext.wrappers.atari import action_meanings


class Joystick(gym.ActionWrapper):
    """Box(2) x/y (or Box(3) x/y/fire) actions mapped to the nearest game action by meaning.

    Directions outside the dead zone combine (``UPRIGHT``, ...); a combination the game lacks
    falls back to its vertical, then horizontal part; the dead zone is ``NOOP``. With ``fire``,
    a third value > ``dead_zone`` adds FIRE (``UPFIRE``, or ``FIRE`` alone) where the game has it.
    Put it after SB3's ``AtariWrapper``.

    :param env: an ALE environment (possibly wrapped)
    :param dead_zone: stick values within ``[-dead_zone, dead_zone]`` count as centred
    :param fire: add a third action dimension for the fire button
    """

    def __init__(self, env: gym.Env, dead_zone: float = 0.5, fire: bool = False) -> None:
        super().__init__(env)
        if not 0 <= dead_zone < 1:
            raise ValueError(f"Joystick: dead_zone must be in [0, 1), got {dead_zone!r}")
        self.meanings = action_meanings(env)
        if "NOOP" not in self.meanings:
            raise ValueError(f"Joystick needs a game with NOOP; its actions are {self.meanings}")
        self.dead_zone, self.fire = float(dead_zone), fire
        self.action_space = spaces.Box(-1.0, 1.0, shape=(3 if fire else 2,), dtype=np.float32)

    def meaning(self, action: np.ndarray) -> str:
        """The game action name for a stick position."""
        x, y = float(action[0]), float(action[1])
        vertical = "UP" if y > self.dead_zone else "DOWN" if y < -self.dead_zone else ""
        horizontal = "RIGHT" if x > self.dead_zone else "LEFT" if x < -self.dead_zone else ""
        pressed = self.fire and float(action[2]) > self.dead_zone
        candidates = [vertical + horizontal, vertical, horizontal]
        if pressed:
            candidates = [c + "FIRE" if c else "FIRE" for c in candidates] + candidates
        for name in candidates:
            if name and name in self.meanings:
                return name
        return "NOOP"

    def action(self, action: Any) -> int:
        return self.meanings.index(self.meaning(np.asarray(action, dtype=np.float32).reshape(-1)))
