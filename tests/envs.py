"""Small real environments for fast "does it learn" tests."""

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class BlindCliffwalk(gym.Env):
    """Schaul et al. 2016, Fig. 1: a chain where one action of each state moves right and the
    other ends the episode with reward 0; the last right move gives reward 1. A random policy
    reaches the reward with probability 2^-n, so learning depends on replaying that rare
    transition and propagating it back through correct bootstrapped targets."""

    def __init__(self, n_states: int = 6, seed: int = 0):
        self.n_states = n_states
        self.correct = np.random.default_rng(seed).integers(0, 2, size=n_states)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(n_states,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.state = 0

    def _obs(self):
        obs = np.zeros(self.n_states, dtype=np.float32)
        obs[self.state] = 1.0
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = 0
        return self._obs(), {}

    def step(self, action):
        if int(action) != self.correct[self.state]:
            return self._obs(), 0.0, True, False, {}
        if self.state == self.n_states - 1:
            return self._obs(), 1.0, True, False, {}
        self.state += 1
        return self._obs(), 0.0, False, False, {}

    def optimal_q(self, gamma: float) -> np.ndarray:
        """Q*(s_i, correct action) = gamma^(n-1-i)."""
        return gamma ** np.arange(self.n_states - 1, -1, -1, dtype=np.float64)


class Counter(gym.Env):
    """Reward 1 every step; the observation is the step count. Terminates after ``terminate_at``
    steps, or is truncated after ``truncate_at`` steps (by a ``TimeLimit`` the test adds)."""

    def __init__(self, terminate_at: int | None = None):
        self.terminate_at = terminate_at
        self.observation_space = spaces.Box(0.0, 100.0, shape=(1,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        terminated = self.terminate_at is not None and self.t >= self.terminate_at
        return np.array([float(self.t)], dtype=np.float32), 1.0, terminated, False, {}


class Bandit(gym.Env):
    """One observation, ``n_actions`` arms: arm 0 pays 1, the others 0; episodes of ``length`` pulls.
    A policy-gradient method that learns at all makes arm 0 near-certain within a few dozen updates."""

    def __init__(self, n_actions: int = 3, length: int = 5):
        self.observation_space = spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Discrete(n_actions)
        self.length, self.t = length, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.ones(2, dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        return np.ones(2, dtype=np.float32), float(int(action) == 0), self.t >= self.length, False, {}
