"""``minatar_vector`` backend: many MinAtar games in one ``VecEnv``, without the per-env layers.

RL Zoo builds ``n_envs`` MinAtar envs as ``DummyVecEnv`` -> ``Monitor`` -> gymnasium's
``TimeLimit`` / ``OrderEnforcing`` / ``PassiveEnvChecker`` -> ``minatar.gym.BaseEnv`` ->
``minatar.Environment``: five Python calls and two info dicts around each game step. With 128
envs (``pqn``'s MinAtar setting) that bookkeeping costs more than the games. :class:`MinAtarVecEnv`
holds the ``minatar.Environment`` objects and steps them in one loop of ``act`` and ``state``
calls; time limit, episode statistics, Monitor file and auto-reset are done once per batch over
arrays. The games themselves stay MinAtar's own Python code, one call per game and step: batching
them further would mean rewriting the five games.

It gives what the ``DummyVecEnv`` pipeline gives for the same seed (tested step by step:
observations, rewards, dones, terminal observations, truncation flags, Monitor episodes), with
sticky actions and difficulty ramping as MinAtar's defaults or ``env_kwargs`` set them. Pick it with
``vec_env: minatar_vector`` in the yaml or ``-params vec_env:"'minatar_vector'"``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from sb3_atari_ext.hookspecs import BackendUnavailable
from sb3_atari_ext.wrappers.batched_vec_env import BatchedVecEnv
from sb3_atari_minatar.envs import MAX_EPISODE_STEPS, env_ids

#: ``env_kwargs`` the games accept (``minatar.Environment``'s own arguments)
GAME_KWARGS = ("sticky_action_prob", "difficulty_ramping")


class MinAtarVecEnv(BatchedVecEnv):
    """``n_envs`` MinAtar games of one id (``MinAtar/Breakout-v1``) as one SB3 ``VecEnv``.

    :param env_id: a ``MinAtar/<Game>-v0`` (all six actions) or ``-v1`` (minimal action set) id
    :param n_envs: number of games
    :param seed: env ``i`` is seeded with ``seed + i`` at the first reset, as ``make_vec_env`` does
    :param monitor_dir: folder for a ``minatar_vector.monitor.csv`` (RL Zoo's Monitor files)
    :param max_episode_steps: the time limit of the registered ids
    :param game_kwargs: ``sticky_action_prob``, ``difficulty_ramping`` (MinAtar's defaults: 0.1, True)
    """

    backend = "minatar_vector"

    def __init__(
        self,
        env_id: str,
        n_envs: int = 1,
        seed: int | None = None,
        monitor_dir: str | None = None,
        max_episode_steps: int = MAX_EPISODE_STEPS,
        **game_kwargs: Any,
    ) -> None:
        from minatar import Environment

        spec = env_ids().get(env_id)
        if spec is None:
            raise BackendUnavailable(f"minatar_vector backend supports the MinAtar/<Game>-v0/-v1 ids, not {env_id!r}")
        unknown = sorted(set(game_kwargs) - set(GAME_KWARGS))
        if unknown:
            raise BackendUnavailable(f"minatar_vector backend does not pass env_kwargs {unknown} to the games")
        if n_envs < 1:
            raise ValueError(f"n_envs must be >= 1, got {n_envs}")
        self.env_id = env_id
        game = spec["kwargs"]["game"]
        self._games = [Environment(game, **game_kwargs) for _ in range(n_envs)]
        first = self._games[0]
        action_set = first.minimal_action_set() if spec["kwargs"]["use_minimal_action_set"] else range(first.num_actions())
        self._action_set = np.asarray(list(action_set), dtype=np.int64)
        shape = tuple(first.state_shape())
        super().__init__(n_envs, spaces.Box(0.0, 1.0, shape=shape, dtype=bool), spaces.Discrete(len(self._action_set)))
        self.max_episode_steps = int(max_episode_steps)
        self._obs = np.zeros((n_envs, *shape), dtype=bool)
        self._actions = np.zeros(n_envs, dtype=np.int64)
        self._returns = np.zeros(n_envs, dtype=np.float64)
        self._lengths = np.zeros(n_envs, dtype=np.int64)
        self._open_monitor(monitor_dir)
        if seed is not None:
            self.seed(seed)

    @classmethod
    def from_zoo(
        cls,
        env_id: str,
        n_envs: int,
        seed: int | None,
        frame_stack: int | None,
        wrappers: Sequence[tuple[str, dict[str, Any]]],
        env_kwargs: dict[str, Any] | None,
        monitor_dir: str | None,
    ) -> MinAtarVecEnv:
        """The backend's ``register_vec_envs`` factory: what RL Zoo's settings ask for, or
        :class:`BackendUnavailable` saying why not."""
        if frame_stack not in (None, 1):
            raise BackendUnavailable(f"minatar_vector backend does not stack frames (frame_stack: {frame_stack})")
        if wrappers:
            names = [name for name, _ in wrappers]
            raise BackendUnavailable(f"minatar_vector backend does not apply env_wrapper {names}")
        return cls(env_id, n_envs=n_envs, seed=seed, monitor_dir=monitor_dir, **dict(env_kwargs or {}))

    # -- VecEnv API --------------------------------------------------------------------------------
    def reset(self) -> VecEnvObs:
        for i, game in enumerate(self._games):
            if self._seeds[i] is not None:
                game.seed(self._seeds[i])
            game.reset()
            self._obs[i] = game.state()
        self._reset_seeds()
        self._reset_options()
        self._returns[:] = 0.0
        self._lengths[:] = 0
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._obs.copy()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = self._action_set[np.asarray(actions).reshape(self.num_envs)]

    def step_wait(self) -> VecEnvStepReturn:
        n, obs = self.num_envs, self._obs
        rewards = np.empty(n, dtype=np.float64)
        terminated = np.empty(n, dtype=bool)
        for i, (game, action) in enumerate(zip(self._games, self._actions.tolist(), strict=True)):
            rewards[i], terminated[i] = game.act(action)
            obs[i] = game.state()
        self._returns += rewards
        self._lengths += 1
        truncated = self._lengths >= self.max_episode_steps
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(n)]
        over = np.flatnonzero(dones)
        if len(over):
            elapsed = round(time.time() - self._t_start, 6)
            for i in over.tolist():
                info = infos[i]
                info["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
                episode = {"r": round(float(self._returns[i]), 6), "l": int(self._lengths[i]), "t": elapsed}
                info["episode"] = episode
                self._write_episode(episode)
                info["terminal_observation"] = obs[i].copy()
                game = self._games[i]
                game.reset()
                obs[i] = game.state()
            self._returns[over] = 0.0
            self._lengths[over] = 0
        return obs.copy(), rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self._close_monitor()


#: the ``register_vec_envs`` factory of the ``minatar_vector`` backend
make_minatar_vector_env = MinAtarVecEnv.from_zoo
