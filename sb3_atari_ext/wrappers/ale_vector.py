"""``ale_vector`` backend: RL Zoo's Atari pipeline on ale-py's own C++ vector env.

ale-py (0.11 and later) ships ``AtariVectorEnv``: the games step in C++ threads with the
preprocessing built in (frame skip with max-pooling, 84x84 grayscale, frame stack, no-op starts,
fire on reset), no Python process per env. :class:`AleVecEnv` wraps it as an SB3 ``VecEnv`` that
gives what RL Zoo builds for an Atari id with ``env_wrapper: AtariWrapper`` and ``frame_stack: N``,
exactly as the envpool backend does (:class:`~sb3_atari_ext.wrappers.envpool.AtariPoolVecEnv`):
life losses are dones, Monitor episodes carry the unclipped return and the length in frames,
rewards are clipped to their sign here, stacks are zero-filled after a reset or a life loss.

What stays different from SB3's ``AtariWrapper`` (tested in ``tests/wrappers/test_envpool.py``,
which runs every check on both backends):

- max-pooling is over grayscale frames, not RGB ones (no pixel differs on Space Invaders and
  Breakout, 0.2% on Pong, 0.5% on MsPacman in a measurement), and grayscale is ALE's palette,
  not OpenCV's conversion: < 1 gray level apart on average;
- no-op starts draw from ale-py's generator (0 to ``noop_max``), so episodes start after other
  numbers of no-ops than SB3's for the same seed;
- FIRE is pressed once on a full reset only (SB3's ``FireResetEnv``: FIRE then action 2, and
  again after every life loss, through ``EpisodicLifeEnv``'s reset): in games with FIRE the
  trajectories drift apart after the first life loss;
- sticky actions are ALE's per-frame ones.

Only the ``*NoFrameskip-v4`` ids are mapped (``MsPacmanNoFrameskip-v4`` -> the ``ms_pacman`` ROM);
anything else, other env wrappers, ``env_kwargs`` or an ale-py without the vector env raise
:class:`~sb3_atari_ext.hookspecs.BackendUnavailable`.
"""

from __future__ import annotations

import re

import numpy as np
from gymnasium import spaces

from sb3_atari_ext.hookspecs import BackendUnavailable
from sb3_atari_ext.wrappers.envpool import ATARI_V4, AtariPoolVecEnv


def ale_rom(env_id: str) -> str:
    """ale-py's ROM name for an RL Zoo Atari id, or :class:`BackendUnavailable`."""
    match = ATARI_V4.fullmatch(env_id)
    if match is None:
        raise BackendUnavailable(f"ale_vector backend supports the *NoFrameskip-v4 Atari ids, not {env_id!r}")
    try:
        from ale_py import roms
        from ale_py.vector_env import AtariVectorEnv  # noqa: F401 - ale-py >= 0.11
    except ImportError as exc:
        raise BackendUnavailable(f"ale-py has no vector env ({exc}); ale-py >= 0.11 has it") from None
    rom = re.sub(r"(?<!^)(?=[A-Z])", "_", match.group(1)).lower()
    if roms.get_rom_path(rom) is None:
        raise BackendUnavailable(f"ale-py has no ROM {rom!r} (for {env_id!r})")
    return rom


class AleVecEnv(AtariPoolVecEnv):
    """:class:`~sb3_atari_ext.wrappers.envpool.AtariPoolVecEnv` on ale-py's ``AtariVectorEnv``
    (``vec_env: ale_vector``); the arguments are those of the base class."""

    backend = "ale_vector"

    def _resolve(self, env_id: str) -> None:
        self.rom = ale_rom(env_id)

    def _open(self, seed: int) -> spaces.Space:
        from ale_py.vector_env import AtariVectorEnv
        from gymnasium.vector import AutoresetMode

        s = self._settings
        self._pool = AtariVectorEnv(
            self.rom,
            s["n_envs"],
            num_threads=s["num_threads"],
            max_num_frames_per_episode=s["max_frames"],
            repeat_action_probability=s["action_repeat_probability"],
            # a finished game is reset in the same step (ale-py has no mode without autoreset): its
            # final frame comes in info["final_obs"], the new game's first one in place
            autoreset_mode=AutoresetMode.SAME_STEP,
            img_height=s["screen_size"],
            img_width=s["screen_size"],
            grayscale=True,
            stack_num=s["frame_stack"],
            frameskip=s["frame_skip"],
            maxpool=True,
            noop_max=s["noop_max"],
            episodic_life=False,  # life losses are handled here, without resetting the game
            life_loss_info=False,
            reward_clipping=False,  # clipped here, with the raw reward kept for the Monitor return
            use_fire_reset=True,
        )
        self._reset_seed: int | None = seed % 2**31
        self._started: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.zeros(0, dtype=np.int64),) * 3
        return self._pool.single_action_space

    def _reset_all(self) -> tuple[np.ndarray, np.ndarray]:
        seed, self._reset_seed = self._reset_seed, None  # seeded once per opening, as envpool
        obs, info = self._pool.reset(seed=seed)
        return obs, np.asarray(info["lives"])

    def _reset_some(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # ale-py already reset them in the step that ended them (same-step autoreset)
        started, obs, lives = self._started
        assert np.array_equal(started, indices), "games reset out of step with the pool"
        return obs, lives

    def _step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        obs, rewards, terminated, truncated, info = self._pool.step(actions.astype(np.int32, copy=False))
        lives = np.asarray(info["lives"])
        over = np.flatnonzero(terminated | truncated)
        if len(over):
            obs = np.array(obs)
            self._started = (over, obs[over].copy(), lives[over].copy())  # the new games
            obs[over] = info["final_obs"][over]
            lives = lives.copy()
            lives[over] = 0  # the ended game's last value is not reported; game over is the done
        return obs, rewards, terminated, truncated, lives


#: the ``register_vec_envs`` factory of the ``ale_vector`` backend
make_ale_vector_env = AleVecEnv.from_zoo
