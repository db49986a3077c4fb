"""envpool backend: RL Zoo's Atari pipeline, stepped in C++ threads instead of Python processes.

``EnvpoolVecEnv`` is an SB3 ``VecEnv`` that produces what RL Zoo builds for an Atari id with
``env_wrapper: AtariWrapper`` and ``frame_stack: N`` (``make_vec_env`` -> ``Monitor`` ->
``AtariWrapper`` -> ``VecFrameStack`` -> ``VecTransposeImage``): ``(N, 84, 84)`` uint8 stacks,
clipped rewards, a ``done`` at every life loss (``terminal_on_life_loss``), Monitor-style
``info["episode"]`` (unclipped return, length in frames as RL Zoo's inner ``Monitor`` counts it)
only at the real end of a game, ``terminal_observation`` in the info of a done env, and the
stack zero-filled after a reset or a life loss as ``VecFrameStack`` does.

What envpool does differently (measured; see ``tests/wrappers/test_envpool.py``):

- grayscale comes from ALE's own palette, not OpenCV's RGB->gray, and envpool's reset plays a
  few start-up frames more or less, so moving objects are a few pixels apart: frames differ by
  < 1 gray level on average, and the same policy scores the same +-1 over a Freeway game of the
  same length (tested);
- a life loss is seen one agent step later than SB3's ``EpisodicLifeEnv`` sees it;
- the fire-on-reset step is envpool's (FIRE once) rather than SB3's ``FireResetEnv`` (FIRE then
  action 2), and after a life loss the game simply goes on (SB3's ``EpisodicLifeEnv`` plays one
  no-op step and ``FireResetEnv`` fires again); in games with FIRE the trajectories therefore
  drift apart after the first life loss;
- no-op starts draw their count from envpool's generator, so with ``noop_max > 0`` the two
  pipelines start episodes after different numbers of no-ops even with one seed;
- sticky actions (``action_repeat_probability``) are ALE's per-frame ones.

Only the ``*NoFrameskip-v4`` ids are mapped (``BreakoutNoFrameskip-v4`` -> envpool's
``Breakout-v5`` with frame skip and sticky actions set like the v4 id); anything else raises
:class:`BackendUnavailable`, as do other env wrappers, ``env_kwargs`` and a missing envpool.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from sb3_atari_ext.hookspecs import BackendUnavailable
from sb3_atari_ext.wrappers.batched_vec_env import BatchedVecEnv

ATARI_WRAPPER = "stable_baselines3.common.atari_wrappers.AtariWrapper"
#: RL Zoo's Atari ids, the game's name in group 1 (both C++ backends map only these)
ATARI_V4 = re.compile(r"([A-Za-z0-9]+)NoFrameskip-v4")
# AtariWrapper's keyword arguments and their defaults (SB3 2.x)
ATARI_DEFAULTS = {
    "noop_max": 30,
    "frame_skip": 4,
    "screen_size": 84,
    "terminal_on_life_loss": True,
    "clip_reward": True,
    "action_repeat_probability": 0.0,
}


def envpool_task_id(env_id: str) -> str:
    """envpool's id for an RL Zoo Atari id, or :class:`BackendUnavailable`."""
    match = ATARI_V4.fullmatch(env_id)
    if match is None:
        raise BackendUnavailable(f"envpool backend supports the *NoFrameskip-v4 Atari ids, not {env_id!r}")
    try:
        import envpool
    except ImportError as exc:
        raise BackendUnavailable(f"envpool is not installed ({exc}); install it with `pip install envpool`") from None
    task = f"{match.group(1)}-v5"
    if task not in envpool.list_all_envs():
        raise BackendUnavailable(f"envpool has no {task!r} (for {env_id!r})")
    return task


def atari_kwargs_from_wrappers(wrappers: Sequence[tuple[str, dict[str, Any]]], backend: str = "envpool") -> dict[str, Any]:
    """AtariWrapper's settings from RL Zoo's ``env_wrapper`` list, or :class:`BackendUnavailable`.

    :param wrappers: ``[(qualified class name, kwargs), ...]`` as written in the yaml
    """
    if len(wrappers) != 1 or wrappers[0][0] not in (ATARI_WRAPPER, "AtariWrapper"):
        names = [name for name, _ in wrappers] or ["none"]
        raise BackendUnavailable(f"{backend} backend reproduces env_wrapper AtariWrapper only, got {names}")
    kwargs = dict(wrappers[0][1] or {})
    unknown = set(kwargs) - set(ATARI_DEFAULTS)
    if unknown:
        raise BackendUnavailable(f"{backend} backend does not support AtariWrapper arguments {sorted(unknown)}")
    return {**ATARI_DEFAULTS, **kwargs}


class AtariPoolVecEnv(BatchedVecEnv):
    """SB3 ``VecEnv`` over a C++ pool of Atari games (envpool's or ale-py's), matching RL Zoo's
    AtariWrapper pipeline: life losses as dones, unclipped Monitor episodes, terminal observations,
    zero-filled stacks after a reset. Subclasses open the pool and translate its calls.

    :param env_id: an RL Zoo Atari id (``BreakoutNoFrameskip-v4``)
    :param n_envs: number of environments
    :param seed: pool seed (env ``i`` gets ``seed + i``)
    :param frame_stack: frames per observation (RL Zoo's ``frame_stack``; 1 for none)
    :param noop_max: AtariWrapper settings (see ``ATARI_DEFAULTS``)
    :param monitor_dir: folder for a ``<backend>.monitor.csv`` (RL Zoo's per-env Monitor files)
    :param num_threads: pool worker threads (0: one per core)
    """

    backend = "pool"

    def __init__(
        self,
        env_id: str,
        n_envs: int = 1,
        seed: int | None = 0,
        frame_stack: int = 1,
        noop_max: int = 30,
        frame_skip: int = 4,
        screen_size: int = 84,
        terminal_on_life_loss: bool = True,
        clip_reward: bool = True,
        action_repeat_probability: float = 0.0,
        monitor_dir: str | None = None,
        num_threads: int = 0,
    ) -> None:
        import gymnasium as gym

        self.env_id = env_id
        self._resolve(env_id)
        if n_envs < 1 or frame_stack < 1 or frame_skip < 1:
            raise ValueError(f"n_envs, frame_stack and frame_skip must be >= 1, got {n_envs}, {frame_stack}, {frame_skip}")
        self.frame_stack = frame_stack
        self.frame_skip = frame_skip
        self.terminal_on_life_loss = terminal_on_life_loss
        self.clip_reward = clip_reward
        try:
            import ale_py

            gym.register_envs(ale_py)  # the v4 ids, for their frame limit
            max_frames = (gym.spec(env_id).kwargs or {}).get("max_num_frames_per_episode", 108_000)
        except (ImportError, gym.error.Error):
            max_frames = 108_000
        self._settings = dict(
            n_envs=n_envs, num_threads=num_threads, frame_stack=frame_stack, frame_skip=frame_skip,
            noop_max=int(noop_max), screen_size=screen_size, clip_reward=clip_reward,
            action_repeat_probability=float(action_repeat_probability), max_frames=int(max_frames),
        )  # fmt: skip
        self._seed = 0 if seed is None else int(seed)
        action_space = self._open(self._seed)
        observation_space = spaces.Box(0, 255, (frame_stack, screen_size, screen_size), np.uint8)
        super().__init__(n_envs, observation_space, action_space)
        self._actions = np.zeros(n_envs, dtype=np.int32)
        self._lives = np.zeros(n_envs, dtype=np.int64)
        self._since_reset = np.zeros(n_envs, dtype=np.int64)
        self._returns = np.zeros(n_envs, dtype=np.float64)
        self._lengths = np.zeros(n_envs, dtype=np.int64)
        self._open_monitor(monitor_dir)
        self._episode_start = np.full(n_envs, self._t_start)

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
    ) -> AtariPoolVecEnv:
        """The backend's ``register_vec_envs`` factory (see the hook's contract): what RL Zoo's
        settings ask for, or :class:`BackendUnavailable` saying why not."""
        if env_kwargs:
            raise BackendUnavailable(f"{cls.backend} backend does not pass env_kwargs {sorted(env_kwargs)} to the games")
        atari = atari_kwargs_from_wrappers(wrappers, backend=cls.backend)
        return cls(env_id, n_envs=n_envs, seed=seed, frame_stack=frame_stack or 1, monitor_dir=monitor_dir, **atari)

    # -- what a backend provides -------------------------------------------------------------------
    def _resolve(self, env_id: str) -> None:
        """Map ``env_id`` to the pool's game, or raise :class:`BackendUnavailable`."""
        raise NotImplementedError

    def _open(self, seed: int) -> spaces.Space:
        """Open the pool with ``seed``; return the action space of one game."""
        raise NotImplementedError

    def _reset_all(self) -> tuple[np.ndarray, np.ndarray]:
        """Reset every game: (observations, lives)."""
        raise NotImplementedError

    def _reset_some(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Reset the games ``indices``: (their observations, their lives)."""
        raise NotImplementedError

    def _step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Step every game: (observations, unclipped rewards, terminated, truncated, lives)."""
        raise NotImplementedError

    def _close_pool(self) -> None:
        self._pool.close()

    # -- helpers -----------------------------------------------------------------------------------
    def _zero_stale_frames(self, obs: np.ndarray) -> None:
        """VecFrameStack starts a stack with zeros after a reset; the pools repeat the first frame."""
        stale = self.frame_stack - 1 - self._since_reset
        for i in np.flatnonzero(stale > 0):
            obs[i, : stale[i]] = 0

    # -- VecEnv API --------------------------------------------------------------------------------
    def reset(self) -> VecEnvObs:
        seed = self._seeds[0]
        if seed is not None and seed != self._seed:
            self._close_pool()
            self._seed = int(seed)
            self._open(self._seed)
        self._reset_seeds()
        self._reset_options()
        obs, lives = self._reset_all()
        self._lives[:] = lives
        self._since_reset[:] = 0
        self._returns[:] = 0.0
        self._lengths[:] = 0
        self._episode_start[:] = time.time()
        self.reset_infos = [{"lives": int(n)} for n in lives]
        obs = np.array(obs)
        self._zero_stale_frames(obs)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs).astype(np.int32, copy=False)

    def step_wait(self) -> VecEnvStepReturn:
        obs, raw_rewards, terminated, truncated, lives = self._step(self._actions)
        obs = np.array(obs)
        lives = np.asarray(lives)
        raw_rewards = np.asarray(raw_rewards, dtype=np.float64)
        self._returns += raw_rewards
        self._lengths += 1
        self._since_reset += 1
        game_over = np.asarray(terminated | truncated)
        life_lost = (
            (lives < self._lives) & (lives > 0) & ~game_over if self.terminal_on_life_loss else np.zeros_like(game_over)
        )
        self._lives = lives.astype(np.int64)
        dones = game_over | life_lost
        infos: list[dict[str, Any]] = [{"lives": int(lives[i])} for i in range(self.num_envs)]
        for i in np.flatnonzero(dones):
            infos[i]["terminal_observation"] = obs[i].copy()
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            self._since_reset[i] = 0
        over = np.flatnonzero(game_over)
        if len(over):
            now = time.time()
            for i in over:
                episode = {
                    "r": round(float(self._returns[i]), 6),
                    "l": int(self._lengths[i]) * self.frame_skip,
                    "t": round(now - self._t_start, 6),
                }
                infos[i]["episode"] = episode
                self._write_episode(episode)
            self._returns[over] = 0.0
            self._lengths[over] = 0
            reset_obs, reset_lives = self._reset_some(over)
            obs[over] = reset_obs
            self._lives[over] = reset_lives
        self._zero_stale_frames(obs)
        rewards = np.sign(raw_rewards) if self.clip_reward else raw_rewards  # SB3's ClipRewardEnv
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self._close_pool()
        self._close_monitor()


class EnvpoolVecEnv(AtariPoolVecEnv):
    """:class:`AtariPoolVecEnv` on an envpool Atari pool (``vec_env: envpool``)."""

    backend = "envpool"

    def _resolve(self, env_id: str) -> None:
        self.task_id = envpool_task_id(env_id)

    def _open(self, seed: int) -> spaces.Space:
        import envpool

        s = self._settings
        # envpool takes int32 seeds; RL Zoo draws its default seed from [0, 2**32 - 1)
        self._pool = envpool.make_gymnasium(
            self.task_id,
            seed=seed % 2**31,
            num_envs=s["n_envs"],
            batch_size=s["n_envs"],
            num_threads=s["num_threads"],
            stack_num=s["frame_stack"],
            frame_skip=s["frame_skip"],
            noop_max=max(s["noop_max"], 1),  # envpool draws [0, noop_max): 1 means no no-ops, like SB3's 0
            img_height=s["screen_size"],
            img_width=s["screen_size"],
            episodic_life=False,  # life losses are handled here (envpool's version resets the game on reset())
            reward_clip=False,  # clipped here, with the raw reward kept for the Monitor return
            repeat_action_probability=s["action_repeat_probability"],
            max_episode_steps=max(1, s["max_frames"] // s["frame_skip"]),
            use_fire_reset=True,
        )
        return self._pool.action_space

    def _reset_all(self) -> tuple[np.ndarray, np.ndarray]:
        obs, info = self._pool.reset()
        return obs, np.asarray(info["lives"])

    def _reset_some(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        obs, info = self._pool.reset(indices.astype(np.int32))
        return obs, np.asarray(info["lives"])

    def _step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        obs, rewards, terminated, truncated, info = self._pool.step(actions)
        return obs, rewards, terminated, truncated, info["lives"]  # unclipped: reward_clip=False


#: the ``register_vec_envs`` factory of the ``envpool`` backend
make_envpool_env = EnvpoolVecEnv.from_zoo
