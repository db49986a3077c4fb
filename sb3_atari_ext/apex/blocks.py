"""Blocks of transitions, as actors send them to the learner: every frame once.

An actor plays ``T`` steps in each of its envs and sends one :class:`Block`. For every env the
block holds one **stream**: the observations of ``T`` consecutive transitions, where a
transition's ``next_obs`` is the next transition's ``obs`` except after an episode end (there
the terminal observation and the reset observation are both sent). Each observation is sent as
its frames: in full (``n_stack`` frames) when it starts a stream or an episode, and otherwise
only its newest frame when it is the previous observation shifted by one frame (what
``VecFrameStack`` produces). A block of ``T`` Atari steps is ``T`` frames (~7 KB each) instead of
``2 T`` stacks of four (56 KB per transition). The learner decodes the streams and stores them
in its frame-deduplicated :class:`~sb3_atari_ext.buffers.PrioritizedReplayBuffer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


class FrameCodec:
    """Splits observations into ``n_stack`` frames and back, like the replay buffer stores them."""

    def __init__(self, observation_space: Any, action_space: Any, frame_channels: int = 1) -> None:
        from sb3_atari_ext.buffers.frame_storage import FrameReplayBuffer

        # Storage of a FrameReplayBuffer is allocated on its first add: this one never allocates.
        self._layout = FrameReplayBuffer(1, observation_space, action_space, device="cpu", frame_channels=frame_channels)
        self.n_stack = self._layout.n_stack

    def frames(self, obs: np.ndarray) -> np.ndarray:
        """One observation -> ``(n_stack, *frame_shape)``."""
        return self._layout._to_frames(obs[None])[0]

    def stack(self, frames: np.ndarray) -> np.ndarray:
        """``(n_stack, *frame_shape)`` -> one observation."""
        return self._layout._from_frames(frames[None])[0]


@dataclass
class Stream:
    """``T`` consecutive transitions of one env, with the frames of their observations.

    ``sent[k]`` is the number of frames sent for the ``k``-th observation of the sequence (``n_stack``:
    in full, 1: shifted by one new frame); ``obs_index[t]`` and ``next_index[t]`` say which
    observation of the sequence is transition ``t``'s ``obs`` and ``next_obs``.
    """

    frames: np.ndarray
    sent: np.ndarray
    obs_index: np.ndarray
    next_index: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    truncated: np.ndarray
    priorities: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.actions)

    def observations(self, codec: FrameCodec) -> np.ndarray:
        """The observation sequence, rebuilt from the frames."""
        out, at, current = [], 0, None
        for count in self.sent.tolist():
            new = self.frames[at : at + count]
            at += count
            current = new if count == codec.n_stack else np.concatenate([current[count:], new])  # type: ignore[index]
            out.append(codec.stack(current))
        return np.stack(out)

    @property
    def nbytes(self) -> int:
        return int(sum(np.asarray(a).nbytes for a in vars(self).values() if a is not None))


class StreamRecorder:
    """Collects one env's steps into a :class:`Stream` (on the actor)."""

    def __init__(self, codec: FrameCodec) -> None:
        self.codec = codec
        self.reset()

    def reset(self) -> None:
        self._frames: list[np.ndarray] = []
        self._sent: list[int] = []
        self._obs_index: list[int] = []
        self._next_index: list[int] = []
        self._last: np.ndarray | None = None  # frames of the last observation sent
        self.actions: list[Any] = []
        self.rewards: list[float] = []
        self.dones: list[bool] = []
        self.truncated: list[bool] = []

    def _send(self, obs: np.ndarray) -> int:
        frames = self.codec.frames(obs)
        n = self.codec.n_stack
        if self._last is not None and n > 1 and np.array_equal(frames[:-1], self._last[1:]):
            self._frames.append(frames[-1:])
            self._sent.append(1)
        else:
            self._frames.append(frames)
            self._sent.append(n)
        self._last = frames
        return len(self._sent) - 1

    def add(self, obs: np.ndarray, action: Any, reward: float, next_obs: np.ndarray, done: bool, truncated: bool) -> None:
        """One transition; ``obs`` must be the previous ``next_obs`` unless an episode ended."""
        if not self._obs_index or self.dones[-1]:
            self._obs_index.append(self._send(obs))
        else:
            self._obs_index.append(self._next_index[-1])
        self._next_index.append(self._send(next_obs))
        self.actions.append(action)
        self.rewards.append(reward)
        self.dones.append(done)
        self.truncated.append(truncated)

    def finish(self) -> Stream:
        """The stream so far; the recorder starts a new one."""
        stream = Stream(
            frames=np.concatenate(self._frames) if self._frames else np.zeros((0,)),
            sent=np.asarray(self._sent, dtype=np.int16),
            obs_index=np.asarray(self._obs_index, dtype=np.int32),
            next_index=np.asarray(self._next_index, dtype=np.int32),
            actions=np.asarray(self.actions),
            rewards=np.asarray(self.rewards, dtype=np.float32),
            dones=np.asarray(self.dones, dtype=bool),
            truncated=np.asarray(self.truncated, dtype=bool),
        )
        self.reset()
        return stream


@dataclass
class Block:
    """What one ``collect`` call of an actor returns."""

    actor: int
    streams: list[Stream]
    episodes: list[dict[str, float]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return sum(len(s) for s in self.streams)


def n_step_targets(
    rewards: np.ndarray, dones: np.ndarray, truncated: np.ndarray, gamma: float, n_steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """n-step returns over one stream, as the learner's buffer computes them.

    Each return stops at the first episode end or at the stream's end (the stream's last
    transition is a truncation for the buffer). Returns ``(returns, bootstrap_index,
    bootstrap_mask, discounts)``: the return of transition ``t`` bootstraps from the ``next_obs``
    of transition ``bootstrap_index[t]`` with ``discounts[t] * bootstrap_mask[t]``.
    """
    count = len(rewards)
    ended = dones.astype(bool).copy()
    if count:
        ended[-1] = True
    returns = np.zeros(count, dtype=np.float64)
    last = np.zeros(count, dtype=np.int64)
    for t in range(count):
        total, k = 0.0, 0
        while True:
            total += gamma**k * float(rewards[t + k])
            if ended[t + k] or k + 1 == n_steps:
                break
            k += 1
        returns[t], last[t] = total, t + k
    terminal = dones.astype(bool) & ~truncated.astype(bool)
    mask = (~terminal[last]).astype(np.float64)
    discounts = gamma ** (last - np.arange(count) + 1).astype(np.float64)
    return returns, last, mask, discounts
