"""``FrameReplayBuffer``: an SB3 replay buffer that stores each observation frame once.

SB3's ``ReplayBuffer`` keeps ``obs`` and ``next_obs`` of every transition as full frame stacks:
56,448 bytes per 4x84x84 Atari transition, although consecutive stacks share 3 of their 4
frames and ``next_obs`` of one step is ``obs`` of the next. Here every environment has an
append-only **frame log** (a ring); a transition stores, for ``obs`` and ``next_obs``, the log
position of its newest frame and the position where its episode's frames start (older slots of
the stack are the zero frames that ``VecFrameStack`` pads a new episode with). Stacks are
rebuilt at sample time with one vectorized gather. One frame is appended per step (plus the
first frames of each episode), about 7.1-7.3 KB per Atari transition.

Nothing is assumed about the stream: each ``add`` checks that ``obs`` equals the previous
``next_obs`` and that ``next_obs`` is ``obs`` shifted by one frame; when a check fails the whole
stack is appended, so sampled observations are always exactly those that were added
(identical to SB3's ``ReplayBuffer`` for the same stream). Observations that are not frame
stacks (vectors, single images) are handled the same way with one "frame" per observation,
which still halves SB3's memory (``next_obs`` is never stored twice).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from numba import njit
from stable_baselines3.common.buffers import BaseBuffer, ReplayBuffer
from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

try:
    import psutil
except ImportError:  # pragma: no cover
    psutil = None

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30}


@njit(cache=True, nogil=True)
def _differs(a, b):  # pragma: no cover - compiled
    """True when two equal-length 1D word arrays differ anywhere (branch-free XOR/OR: vectorizes)."""
    if a.shape[0] == 0:
        return False
    acc = a[0] ^ a[0]
    for i in range(a.shape[0]):
        acc |= a[i] ^ b[i]
    return acc != 0


@njit(cache=True, nogil=True)
def _append_frames(frames, env, count, capacity, stack, first):  # pragma: no cover - compiled
    # ``frames`` is the log itself, or (compressed logs) a small staging ring the caller compresses from
    slots = frames.shape[0]
    for j in range(first, stack.shape[0]):
        frames[count % slots, env, :] = stack[j]
        count += 1
    return count


@njit(cache=True, nogil=True)
def _leading_zero_frames(stack):  # pragma: no cover - compiled
    lead = 0
    while lead < stack.shape[0] - 1:
        for i in range(stack.shape[1]):
            if stack[lead, i] != 0:
                return lead
        lead += 1
    return lead


@njit(cache=True, nogil=True)
def _store_env(frames, env, count, capacity, stack, next_stack, last, last_valid, last_ptr, last_start):  # pragma: no cover
    """Store one env's (obs, next_obs) in its frame log; see ``FrameReplayBuffer._store``.

    ``frames``: (capacity, n_envs, W); ``stack``/``next_stack``/``last``: (n_stack, W), all as raw
    words (uint64 when a frame's bytes allow, else uint8): compares and copies are exact.
    Returns (ptr, start, next_ptr, next_start, new_count) and updates ``last`` to next_stack.
    """
    n_stack = stack.shape[0]
    same = last_valid and last_ptr >= count - capacity + n_stack
    if same:
        same = not _differs(stack.ravel(), last.ravel())
    if same:
        ptr, start = last_ptr, last_start
    else:
        lead = _leading_zero_frames(stack)
        count = _append_frames(frames, env, count, capacity, stack, lead)
        ptr = count - 1
        start = ptr - (n_stack - 1 - lead)
    shifted = ptr == count - 1 and not _differs(next_stack[:-1].ravel(), stack[1:].ravel())
    if shifted:
        count = _append_frames(frames, env, count, capacity, next_stack, n_stack - 1)
        next_ptr, next_start = count - 1, start
    else:
        lead = _leading_zero_frames(next_stack)
        count = _append_frames(frames, env, count, capacity, next_stack, lead)
        next_ptr = count - 1
        next_start = next_ptr - (n_stack - 1 - lead)
    last[:, :] = next_stack
    return ptr, start, next_ptr, next_start, count


#: bytes a compressed frame is counted at by ``memory_limit`` and the memory check
COMPRESSED_FRAME_BYTES = 1024


class ReplayMemoryError(MemoryError):
    """The replay buffer would not fit in the available memory."""


def parse_bytes(value: str | int | float) -> int:
    """``"4GB"`` -> 4_000_000_000; ``"512MiB"``, ``"1.5 GB"`` and plain numbers (bytes) work too."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"memory_limit must be positive, got {value!r}")
        return int(value)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(value))
    if match is None or match.group(2).lower() not in _UNITS or float(match.group(1)) <= 0:
        raise ValueError(f"memory_limit must look like '4GB', '512MB' or '8GiB', got {value!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


class FrameReplayBuffer(ReplayBuffer):
    """Replay buffer storing each frame of stacked observations once (drop-in for SB3's).

    Works as ``replay_buffer_class`` of SB3 ``DQN``, sb3-contrib ``QRDQN`` and ``ddqn_prio``.

    :param buffer_size: max number of transitions (over all envs)
    :param observation_space: observation space (``Box`` or ``Discrete``; images are split into frames)
    :param action_space: action space
    :param device: torch device of the sampled tensors
    :param n_envs: number of parallel environments
    :param optimize_memory_usage: ignored (this buffer never stores an observation twice)
    :param handle_timeout_termination: treat time-limit truncations as non-terminal (as SB3 does)
    :param memory_limit: cap on the buffer's memory (``"4GB"``, ``"512MiB"`` or bytes): the capacity
        becomes ``min(buffer_size, what fits in memory_limit)``
    :param frame_channels: channels per frame of an image stack (1 for grayscale Atari stacks,
        3 for stacked RGB frames)
    :param frame_slack: extra frame-log room, as a fraction of the capacity, for the first frames
        of each episode. When episodes are shorter than about ``1 / frame_slack`` steps the oldest
        transitions are dropped a little early (never returned with wrong frames). ``None`` (default):
        0.02 for frame stacks (Atari episodes are hundreds of steps long), 1.0 for single-frame
        observations (MinAtar, vectors), where a transition stores at most two frames, so the log can
        never overflow and the buffer holds no more than SB3's ``ReplayBuffer`` would.
    :param compression: ``"zstd"``: every frame of the log is compressed (zstd with a dictionary
        trained on the buffer's first frames; ~50-260 bytes per Atari frame instead of 7,056),
        decompressed when sampled; ``None``: frames stored as they are; ``"auto"`` (default):
        ``"zstd"`` for image frames of 1 KB or more (Atari) when the ``zstandard`` package is
        installed, else ``None`` (MinAtar's and vector frames are too small to gain).
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        memory_limit: str | int | None = None,
        frame_channels: int = 1,
        frame_slack: float | None = None,
        compression: str | None = "auto",
    ) -> None:
        if isinstance(observation_space, spaces.Dict):
            raise ValueError("FrameReplayBuffer does not support Dict observations; use SB3's DictReplayBuffer")
        # Skip ReplayBuffer.__init__: it allocates the storage, which we do on the first add().
        BaseBuffer.__init__(self, buffer_size, observation_space, action_space, device, n_envs=n_envs)
        self.optimize_memory_usage = False
        self.handle_timeout_termination = handle_timeout_termination
        self._setup_frames(frame_channels)
        if frame_slack is None:
            frame_slack = 0.02 if self.n_stack > 1 else 1.0
        self.frame_slack = float(frame_slack)
        self.compression = self._choose_compression(compression)
        self.buffer_size = max(buffer_size // n_envs, 1)
        self.memory_limit = None if memory_limit is None else parse_bytes(memory_limit)
        if self.memory_limit is not None:
            fits = int(self.memory_limit / self.bytes_per_transition) // n_envs
            if fits < 1:
                raise ValueError(
                    f"memory_limit={memory_limit!r} is smaller than one transition ({self.bytes_per_transition} B)"
                )
            self.buffer_size = min(self.buffer_size, fits)
        # Room for the first frames of episodes: a fraction of the capacity, and at least 64 extra.
        self.log_capacity = int(np.ceil(self.buffer_size * (1 + self.frame_slack))) + max(2 * self.n_stack, 64)
        self.frames: np.ndarray | None = None  # the frame log, or with compression its staging ring
        self.frame_store: Any = None  # with compression: the compressed frame log
        self.observations = None  # type: ignore[assignment]  # stacks are never stored whole
        self._warned_eviction = False

    def _choose_compression(self, compression: str | None) -> str | None:
        from sb3_atari_ext.buffers.compression import CODECS, require_zstandard, zstandard_available

        frame_bytes = int(np.prod(self.frame_shape)) * self.frame_dtype.itemsize
        if compression == "auto":
            image = self.frame_dtype == np.uint8 and len(self.frame_shape) == 3
            return "zstd" if image and frame_bytes >= 1024 and zstandard_available() else None
        if compression is None:
            return None
        if compression not in CODECS:
            raise ValueError(f"compression={compression!r}: expected one of {', '.join(map(repr, CODECS))}, 'auto' or None")
        require_zstandard()
        return compression

    # -- layout ----------------------------------------------------------------------------------
    def _setup_frames(self, frame_channels: int) -> None:
        """Split the observation into ``n_stack`` frames of ``frame_shape`` along the stack axis."""
        self.frame_channels = frame_channels
        space = self.observation_space
        self._channels_last = False
        if isinstance(space, spaces.Box) and is_image_space(space, check_channels=False) and len(space.shape) == 3:
            self._channels_last = not is_image_space_channels_first(space)
            channels = space.shape[-1] if self._channels_last else space.shape[0]
            if frame_channels < 1 or channels % frame_channels:
                raise ValueError(f"frame_channels={frame_channels} does not divide the {channels} image channels")
            self.n_stack = channels // frame_channels
            height, width = (space.shape[0], space.shape[1]) if self._channels_last else (space.shape[1], space.shape[2])
            self.frame_shape: tuple[int, ...] = (frame_channels, height, width)
        else:
            self.n_stack = 1
            self.frame_shape = tuple(self.obs_shape)
        self.frame_dtype = np.dtype(space.dtype) if space.dtype is not None else np.dtype(np.float32)

    def _to_frames(self, obs: np.ndarray) -> np.ndarray:
        """``(n, *obs_shape)`` -> ``(n, n_stack, *frame_shape)``."""
        if not self._channels_last:
            return np.reshape(obs, (-1, self.n_stack, *self.frame_shape))
        obs = np.moveaxis(np.reshape(obs, (-1, *self.obs_shape)), -1, 1)
        return obs.reshape((obs.shape[0], self.n_stack, *self.frame_shape))

    def _from_frames(self, frames: np.ndarray) -> np.ndarray:
        """``(n, n_stack, *frame_shape)`` -> ``(n, *obs_shape)``."""
        n = frames.shape[0]
        if self._channels_last:
            stacked = frames.reshape((n, -1, *self.frame_shape[1:]))
            return np.ascontiguousarray(np.moveaxis(stacked, 1, -1))
        return frames.reshape((n, *self.obs_shape))

    @property
    def bytes_per_transition(self) -> int:
        """Storage bytes per transition (frames with the log's slack, pointers, action, reward, flags)."""
        frame = int(np.prod(self.frame_shape)) * self.frame_dtype.itemsize
        if self.compression is not None:
            # the compressed size is known only once frames arrive: counted at COMPRESSED_FRAME_BYTES
            # (payload, object header and pointer), above every Atari game measured (~90-300)
            frame = min(frame, COMPRESSED_FRAME_BYTES)
        action = self.action_dim * np.dtype(self._maybe_cast_dtype(self.action_space.dtype)).itemsize
        return int(np.ceil(frame * (1 + self.frame_slack))) + 4 * 8 + action + 3 * 4

    @property
    def allocated(self) -> bool:
        """Whether the storage exists (it is allocated by the first ``add``)."""
        return self.frames is not None

    @property
    def nbytes(self) -> int:
        """Bytes of the allocated storage (0 before the first ``add``)."""
        if self.frames is None:
            return 0
        arrays = (self.frames, self.obs_ptr, self.obs_start, self.next_ptr, self.next_start, self.actions, self.rewards)
        stored = self.frame_store.nbytes if self.frame_store is not None else 0
        return sum(a.nbytes for a in arrays) + self.dones.nbytes + self.timeouts.nbytes + stored

    # -- storage ---------------------------------------------------------------------------------
    def _allocate(self) -> None:
        need = self.bytes_per_transition * self.buffer_size * self.n_envs
        if psutil is not None and need > psutil.virtual_memory().available:
            raise ReplayMemoryError(
                f"{type(self).__name__} of {self.buffer_size * self.n_envs:,} transitions needs {need / 1e9:.2f} GB, "
                f"but only {psutil.virtual_memory().available / 1e9:.2f} GB of memory is available. Lower buffer_size "
                "or cap it with replay_buffer_kwargs: dict(memory_limit='4GB')."
            )
        shape = (self.buffer_size, self.n_envs)
        if self.compression is not None:
            from sb3_atari_ext.buffers.compression import ZstdFrameStore

            frame_bytes = int(np.prod(self.frame_shape)) * self.frame_dtype.itemsize
            self.frame_store = ZstdFrameStore(self.log_capacity, self.n_envs, frame_bytes)
            slots = 4 * self.n_stack + 8  # the staging ring: one add appends at most 2 * n_stack frames
        else:
            slots = self.log_capacity
        self.frames = np.zeros((slots, self.n_envs, *self.frame_shape), dtype=self.frame_dtype)
        self.log_count = np.zeros(self.n_envs, dtype=np.int64)  # absolute number of frames appended per env
        self.obs_ptr, self.obs_start = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
        self.next_ptr, self.next_start = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
        self.actions = np.zeros((*shape, self.action_dim), dtype=self._maybe_cast_dtype(self.action_space.dtype))
        self.rewards = np.zeros(shape, dtype=np.float32)
        self.dones = np.zeros(shape, dtype=np.float32)
        self.timeouts = np.zeros(shape, dtype=np.float32)
        # The previous next_obs of each env (to recognise obs_t+1 == next_obs_t), and whether it ended an episode.
        self._last_ptr = [-1] * self.n_envs
        self._last_start = [0] * self.n_envs
        self._last_done = [True] * self.n_envs
        self._build_word_views()
        frame_bytes = int(np.prod(self.frame_shape)) * self.frame_dtype.itemsize
        self._last_next = np.zeros((self.n_envs, self.n_stack, frame_bytes), dtype=np.uint8).view(self._word)

    def __getstate__(self) -> dict[str, Any]:
        # Pickle (save_replay_buffer) only the written part of the frame log: a 1M-capacity Atari
        # buffer saved after a short run is then megabytes, not 7 GB of zeros.
        state = self.__dict__.copy()
        state.pop("_log_words", None)
        if self.frames is not None and self.frame_store is None:
            state["frames"] = self.frames[: int(min(self.log_count.max(), self.log_capacity))]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("compression", None)  # buffers saved before compression existed
        self.__dict__.setdefault("frame_store", None)
        frames = state.get("frames")
        if frames is not None and self.frame_store is None and frames.shape[0] < self.log_capacity:
            self.frames = np.zeros((self.log_capacity, *frames.shape[1:]), dtype=frames.dtype)
            self.frames[: frames.shape[0]] = frames
        if self.frames is not None:
            self._build_word_views()

    def _words(self, obs: np.ndarray) -> np.ndarray:
        """Observations ``(n_envs, *obs_shape)`` as raw frame words ``(n_envs, n_stack, W)``."""
        if self._channels_last:
            obs = self._to_frames(obs)
        frames = np.ascontiguousarray(obs, dtype=self.frame_dtype).reshape(self.n_envs, self.n_stack, -1)
        return frames.view(np.uint8).view(self._word)

    def _build_word_views(self) -> None:
        # Not pickled (a view would be saved as a copy): rebuilt after allocation and unpickling.
        frame_bytes = int(np.prod(self.frame_shape)) * self.frame_dtype.itemsize
        self._word = np.uint64 if frame_bytes % 8 == 0 else np.uint8
        self._log_words = self.frames.reshape(self.frames.shape[0], self.n_envs, -1).view(np.uint8).view(self._word)

    def _store(self, pos: int, obs: np.ndarray, next_obs: np.ndarray) -> None:
        """Append what is new in (obs, next_obs) to each env's frame log (compiled, per env).

        obs is reused when it equals the env's previous next_obs (same episode, exact compare);
        next_obs appends only its newest frame when it is obs shifted by one frame. Anything
        else is appended whole, leading all-zero frames becoming padding.
        """
        obs_frames, next_frames, log = self._words(obs), self._words(next_obs), self._log_words
        for env in range(self.n_envs):
            before = int(self.log_count[env])
            ptr, start, next_ptr, next_start, count = _store_env(
                log,
                env,
                int(self.log_count[env]),
                self.log_capacity,
                obs_frames[env],
                next_frames[env],
                self._last_next[env],
                not self._last_done[env],
                self._last_ptr[env],
                self._last_start[env],
            )
            self.log_count[env] = count
            if self.frame_store is not None:  # compress what was staged
                slots = log.shape[0]
                for position in range(before, count):
                    self.frame_store.put(position % self.log_capacity, env, log[position % slots, env])
            self.obs_ptr[pos, env], self.obs_start[pos, env] = ptr, start
            self.next_ptr[pos, env], self.next_start[pos, env] = next_ptr, next_start
            self._last_ptr[env], self._last_start[env] = next_ptr, next_start

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        if self.frames is None:
            self._allocate()
        pos = self.pos
        self._store(pos, obs, next_obs)
        self.actions[pos] = np.reshape(action, (self.n_envs, self.action_dim))
        self.rewards[pos] = reward
        self.dones[pos] = done
        self._last_done = np.asarray(done, dtype=bool).reshape(-1).tolist()
        if self.handle_timeout_termination:
            self.timeouts[pos] = [info.get("TimeLimit.truncated", False) for info in infos]
        self._after_add(pos)
        self.pos = pos + 1
        if self.pos == self.buffer_size:
            self.full = True
            self.pos = 0

    def _after_add(self, pos: int) -> None:
        """Hook for subclasses (the prioritized buffer sets the new transitions' priority here)."""

    # -- reading ---------------------------------------------------------------------------------
    def _gather_frames(self, env_indices: np.ndarray, ptr: np.ndarray, start: np.ndarray, count: int = 0) -> np.ndarray:
        """Frames ``(batch, count, *frame_shape)`` ending at ``ptr`` (zero before ``start``).

        ``count`` defaults to ``n_stack``; one ``np.take`` on the flattened log does the gather.
        """
        count = count or self.n_stack
        positions = ptr[:, None] - np.arange(count - 1, -1, -1)  # [batch, count]
        flat = (positions % self.log_capacity) * self.n_envs + env_indices[:, None]
        padding = positions < start[:, None]
        if self.frame_store is not None:  # decode only the frames that are not padding
            frames = np.zeros((*flat.shape, *self.frame_shape), dtype=self.frame_dtype)
            kept = ~padding
            frames[kept] = self.frame_store.get(flat[kept]).view(self.frame_dtype).reshape(-1, *self.frame_shape)
            return frames
        frames = np.take(self.frames.reshape(-1, *self.frame_shape), flat, axis=0)
        if padding.any():
            frames[padding] = 0
        return frames

    def _gather(self, env_indices: np.ndarray, ptr: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Rebuild stacks ``(batch, *obs_shape)`` from log positions."""
        return self._from_frames(self._gather_frames(env_indices, ptr, start))

    def observations_at(self, batch_inds: np.ndarray, env_indices: np.ndarray) -> np.ndarray:
        """The stored ``obs`` of transitions ``(batch_inds, env_indices)``."""
        return self._gather(env_indices, self.obs_ptr[batch_inds, env_indices], self.obs_start[batch_inds, env_indices])

    def next_observations_at(self, batch_inds: np.ndarray, env_indices: np.ndarray) -> np.ndarray:
        """The stored ``next_obs`` of transitions ``(batch_inds, env_indices)``."""
        return self._gather(env_indices, self.next_ptr[batch_inds, env_indices], self.next_start[batch_inds, env_indices])

    def observation_pairs_at(self, batch_inds: np.ndarray, env_indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(obs, next_obs)`` of the transitions; one gather of ``n_stack + 1`` frames when they overlap."""
        obs_ptr, obs_start = self.obs_ptr[batch_inds, env_indices], self.obs_start[batch_inds, env_indices]
        next_ptr, next_start = self.next_ptr[batch_inds, env_indices], self.next_start[batch_inds, env_indices]
        if np.all(next_ptr == obs_ptr + 1) and np.all(next_start == obs_start):
            frames = self._gather_frames(env_indices, next_ptr, obs_start, count=self.n_stack + 1)
            return self._from_frames(frames[:, :-1]), self._from_frames(frames[:, 1:])
        return self._gather(env_indices, obs_ptr, obs_start), self._gather(env_indices, next_ptr, next_start)

    def is_valid(self, batch_inds: np.ndarray, env_indices: np.ndarray) -> np.ndarray:
        """False for transitions whose oldest frame was already overwritten in the frame log."""
        oldest_kept = self.log_count[env_indices] - self.log_capacity
        obs_oldest = np.maximum(
            self.obs_start[batch_inds, env_indices], self.obs_ptr[batch_inds, env_indices] - self.n_stack + 1
        )
        valid = obs_oldest >= oldest_kept
        if not valid.all() and not self._warned_eviction:
            self._warned_eviction = True
            warnings.warn(
                f"{type(self).__name__}: the frame log overflowed, so the oldest transitions are dropped early. "
                "Episodes are very short, or the observations are not frame stacks (check frame_channels), "
                "or raise frame_slack.",
                stacklevel=3,
            )
        return valid

    def _valid_indices(self, batch_inds: np.ndarray, env_indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Redraw (uniformly) the few sampled transitions that are no longer fully stored."""
        for _ in range(100):
            invalid = ~self.is_valid(batch_inds, env_indices)
            if not invalid.any():
                break
            upper = self.buffer_size if self.full else self.pos
            batch_inds[invalid] = np.random.randint(0, upper, size=int(invalid.sum()))
            env_indices[invalid] = np.random.randint(0, self.n_envs, size=int(invalid.sum()))
        return batch_inds, env_indices

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> ReplayBufferSamples:
        # Same random draws as SB3's ReplayBuffer (env index per sample), so seeded runs match it.
        env_indices = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        batch_inds, env_indices = self._valid_indices(np.array(batch_inds), env_indices)
        obs, next_obs = self.observation_pairs_at(batch_inds, env_indices)
        data = (
            self._normalize_obs(obs, env),
            self.actions[batch_inds, env_indices, :],
            self._normalize_obs(next_obs, env),
            (self.dones[batch_inds, env_indices] * (1 - self.timeouts[batch_inds, env_indices])).reshape(-1, 1),
            self._normalize_reward(self.rewards[batch_inds, env_indices].reshape(-1, 1), env),
        )
        # Every array above is a fresh gather, never a view of the storage: no second copy needed.
        return ReplayBufferSamples(*(self.to_torch(array, copy=False) for array in data))
