"""Proportional prioritized experience replay (Schaul et al. 2016), as an SB3 replay buffer.

``PrioritizedReplayBuffer`` is a drop-in ``replay_buffer_class`` for SB3's ``DQN`` (which then
samples by priority but never updates priorities) and for our ``ddqn_prio`` (which does, and
anneals beta). It stores observations like :class:`FrameReplayBuffer` (each frame once, about
7.2 KB per Atari transition instead of SB3's 56 KB) and adds:

- a vectorized :class:`~sb3_atari_ext.buffers.sum_tree.SumTree` over the flat index
  ``pos * n_envs + env``;
- stratified sampling: one uniform draw in each of ``batch_size`` equal segments of the total
  priority (Schaul et al. 2016, App. B.2.1);
- importance-sampling weights ``w_i = (N P(i))^-beta / max_j w_j`` with the max over the sampled
  batch, i.e. ``w_i = (p_i / p_min_batch)^-beta`` (Alg. 1, line 10 normalizes over the whole
  buffer; see :meth:`PrioritizedReplayBuffer.importance_weights` for why we do not);
- new transitions get the largest priority seen so far (Alg. 1, line 6);
- optional n-step returns computed at sample time (never across an episode end or the write
  position);
- storage allocated on the first ``add``: loading a model for ``rl_zoo3.enjoy`` does not reserve
  the replay memory of a 1M-transition buffer; a buffer that cannot fit fails at that first
  ``add`` with a clear message.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecNormalize

from sb3_atari_ext.buffers.compression import CODECS
from sb3_atari_ext.buffers.frame_storage import FrameReplayBuffer
from sb3_atari_ext.buffers.sum_tree import SumTree
from sb3_atari_ext.common.validation import HyperparameterError, check_params, is_int


class PrioritizedReplayBufferSamples(NamedTuple):
    """``ReplayBufferSamples`` plus the importance weights and the flat indices to update."""

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    dones: th.Tensor
    rewards: th.Tensor
    discounts: th.Tensor | None
    weights: th.Tensor
    indices: np.ndarray


def validate_per_params(params: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the key and value of an invalid PER setting."""
    given = {k: v for k, v in params.items() if not (k == "priority_clip" and v is None)}  # None: no clip
    check_params(
        given,
        {
            "alpha": (lambda v: 0 <= v <= 1, "in [0, 1] (Schaul et al. 2016: 0 uniform, 1 fully proportional)"),
            "beta": (lambda v: 0 <= v <= 1, "in [0, 1]"),
            "priority_eps": (lambda v: v > 0, "> 0"),
            "priority_clip": (lambda v: v > 0, "> 0, or None for no clip (Schaul et al. 2016: 1)"),
            "n_steps": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
            "gamma": (lambda v: 0 <= v <= 1, "in [0, 1]"),
        },
    )
    if "compression" in params and params["compression"] not in (None, "auto", *CODECS):
        expected = f"one of {', '.join(map(repr, CODECS))}, 'auto' or None"
        raise HyperparameterError("compression", params["compression"], expected)


class PrioritizedReplayBuffer(FrameReplayBuffer):
    """Proportional prioritized replay buffer with optional n-step returns, on frame storage.

    :param buffer_size: max number of transitions (over all envs)
    :param observation_space: observation space
    :param action_space: action space
    :param device: torch device of the sampled tensors
    :param n_envs: number of parallel environments
    :param optimize_memory_usage: ignored (observations are never stored twice)
    :param handle_timeout_termination: treat time-limit truncations as non-terminal (as SB3 does)
    :param alpha: how much prioritization is used (0: uniform), Schaul et al. 2016 Eq. 1
    :param beta: initial importance-sampling exponent; ``ddqn_prio`` anneals it to ``beta_final``
    :param priority_eps: small constant added to ``|TD error|`` so no transition gets priority 0
    :param priority_clip: ``|TD error|`` is clipped to at most this before ``priority_eps`` is added
        (Schaul et al. 2016 clip TD errors to [-1, 1] in their Atari runs); ``None``: not clipped.
        Bounds how far one outlier (and so each new transition, which enters at the largest
        priority seen) is favoured over the rest.
    :param n_steps: length of the n-step return (1: ordinary one-step target)
    :param gamma: discount used for n-step returns
    :param memory_limit: cap on the buffer's memory (``"4GB"``): see :class:`FrameReplayBuffer`
    :param frame_channels: channels per frame of an image stack (see :class:`FrameReplayBuffer`)
    :param frame_slack: frame-log room for episode starts (see :class:`FrameReplayBuffer`)
    :param compression: ``"auto"``, ``"zstd"`` or ``None``: frame compression (see :class:`FrameReplayBuffer`)
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
        alpha: float = 0.6,
        beta: float = 0.4,
        priority_eps: float = 1e-6,
        priority_clip: float | None = None,
        n_steps: int = 1,
        gamma: float = 0.99,
        memory_limit: str | int | None = None,
        frame_channels: int = 1,
        frame_slack: float | None = None,
        compression: str | None = "auto",
    ) -> None:
        validate_per_params(
            dict(alpha=alpha, beta=beta, priority_eps=priority_eps, priority_clip=priority_clip, n_steps=n_steps, gamma=gamma)
        )
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device=device,
            n_envs=n_envs,
            handle_timeout_termination=handle_timeout_termination,
            memory_limit=memory_limit,
            frame_channels=frame_channels,
            frame_slack=frame_slack,
            compression=compression,
        )
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.priority_eps = float(priority_eps)
        self.priority_clip = None if priority_clip is None else float(priority_clip)
        self.n_steps = int(n_steps)
        self.gamma = float(gamma)
        self.max_priority = 1.0
        self.tree = SumTree(self.buffer_size * self.n_envs)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.__dict__.setdefault("priority_clip", None)  # buffers saved before the clip existed

    def _raw_priorities(self, td_errors: np.ndarray | th.Tensor, caller: str) -> np.ndarray:
        """``min(|td|, priority_clip) + priority_eps`` (before ``alpha``); refuses non-finite values."""
        if isinstance(td_errors, th.Tensor):
            td_errors = td_errors.detach().cpu().numpy()
        raw = np.abs(np.asarray(td_errors, dtype=np.float64).reshape(-1))
        if not np.all(np.isfinite(raw)):
            raise ValueError(f"{caller} got non-finite TD errors or priorities")
        if self.priority_clip is not None:
            np.minimum(raw, self.priority_clip, out=raw)
        return raw + self.priority_eps

    @property
    def bytes_per_transition(self) -> int:
        # plus one float64 sum-tree leaf and min-tree leaf (inner nodes add ~3% more)
        return super().bytes_per_transition + 16

    def _after_add(self, pos: int) -> None:
        # New transitions get the maximal priority so each is replayed at least once (Alg. 1 l. 6).
        self.tree.set_range(pos * self.n_envs, self.n_envs, self.max_priority**self.alpha)

    def add_stream(
        self,
        observations: np.ndarray,
        next_observations: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        dones: np.ndarray,
        truncated: np.ndarray,
        priorities: np.ndarray | None = None,
    ) -> np.ndarray:
        """Add ``T`` consecutive transitions of one stream (one env of one actor) at once.

        What a distributed learner (``apex_ddqn``) inserts: the transitions are stored exactly as
        ``T`` calls of :meth:`add` would store them (each frame once), their priorities are
        ``priorities`` (the actor's ``|TD error|``; ``None``: the maximal priority, as for
        :meth:`add`), and the stream **ends** after its last transition: n-step returns stop there
        and bootstrap from its ``next_obs`` (a truncation, never a terminal), because the next
        positions of the buffer belong to another stream. Needs ``n_envs == 1``.

        :param observations: ``(T, *obs_shape)``
        :param next_observations: ``(T, *obs_shape)`` (the terminal observation where ``dones``)
        :param actions: ``(T, ...)``
        :param rewards: ``(T,)``
        :param dones: ``(T,)`` episode ends (terminal or truncated)
        :param truncated: ``(T,)`` time-limit truncations among ``dones``
        :param priorities: ``(T,)`` raw priorities (before ``alpha``), or ``None``
        :return: the flat indices the transitions were written to
        """
        if self.n_envs != 1:
            raise ValueError(f"add_stream needs a buffer with n_envs=1 (this one has {self.n_envs})")
        count = len(observations)
        flat = np.empty(count, dtype=np.int64)
        for t in range(count):
            flat[t] = self.pos
            info = {"TimeLimit.truncated": bool(truncated[t])}
            self.add(
                observations[t : t + 1],
                next_observations[t : t + 1],
                actions[t : t + 1],
                np.asarray(rewards[t : t + 1], dtype=np.float32),
                np.asarray(dones[t : t + 1]),
                [info],
            )
        if count and not dones[-1]:  # the stream continues elsewhere: end n-step returns here
            self.timeouts[flat[-1], 0] = True
            self.dones[flat[-1], 0] = False
        if priorities is not None and count:
            raw = self._raw_priorities(priorities, "add_stream")
            self.max_priority = max(self.max_priority, float(raw.max()))
            self.tree.update(flat, raw**self.alpha)
        return flat

    # -- sampling ------------------------------------------------------------------------------
    def sample(self, batch_size: int, env: VecNormalize | None = None) -> PrioritizedReplayBufferSamples:  # type: ignore[override]
        """Sample ``batch_size`` transitions proportionally to priority, with IS weights.

        :param batch_size: number of transitions
        :param env: the ``VecNormalize`` wrapper, if any, to normalize observations and rewards
        """
        if self.size() == 0:
            raise RuntimeError("cannot sample from an empty PrioritizedReplayBuffer")
        for _ in range(100):
            total = self.tree.total
            # Stratified sampling: one draw per equal segment of the total priority.
            segment = total / batch_size
            values = (np.arange(batch_size) + np.random.random_sample(batch_size)) * segment
            flat = self.tree.find(np.minimum(values, np.nextafter(total, 0)))
            valid = self.is_valid(*np.divmod(flat, self.n_envs))
            if valid.all():
                break
            # Transitions whose frames were overwritten can never be replayed again.
            self.tree.update(flat[~valid], np.zeros(int((~valid).sum())))
        weights = self.importance_weights(flat)
        return self._get_samples_at(flat, weights, env)

    def importance_weights(self, flat_indices: np.ndarray) -> np.ndarray:
        """``(p_i / p_min)^-beta``: the IS weights normalized by their maximum over the batch.

        Schaul et al. (Alg. 1, line 10) divide by the largest weight in the whole buffer, i.e. use
        the buffer's smallest priority. One transition with a near-zero TD error then sets
        ``p_min`` near ``priority_eps ** alpha`` and shrinks every update: on MinAtar Breakout the
        batch weights fell to ~0.007 at beta 1 (priorities 0.13 on average, 0.0008 at the
        minimum), a ~100x smaller step than DQN's. Normalizing by the batch's own largest weight
        (as Dopamine's Rainbow does) keeps the largest weight of every batch at 1 and the
        relative correction between samples unchanged.
        """
        priorities = self.tree[flat_indices]
        return np.power(priorities / priorities.min(), -self.beta).astype(np.float32)

    def update_priorities(self, flat_indices: np.ndarray, td_errors: np.ndarray | th.Tensor) -> None:
        """Set priorities ``(min(|td|, priority_clip) + eps)^alpha`` for the sampled transitions
        (Alg. 1 line 12).

        :param flat_indices: the ``indices`` field of the sampled batch
        :param td_errors: TD errors of those transitions (any sign)
        """
        priorities = self._raw_priorities(td_errors, "update_priorities")
        self.max_priority = max(self.max_priority, float(priorities.max()))
        self.tree.update(flat_indices, priorities**self.alpha)

    def priority_stats(self) -> dict[str, float]:
        """Mean and min of the stored priorities (p^alpha) and the max raw priority."""
        n = self.size() * self.n_envs
        return {
            "priority_mean": self.tree.total / max(n, 1),
            "priority_min": self.tree.min if n else 0.0,
            "priority_max_raw": self.max_priority,
        }

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> PrioritizedReplayBufferSamples:  # type: ignore[override]
        # Uniform entry point kept for SB3 callers of BaseBuffer.sample(): random env per index.
        env_indices = np.random.randint(0, self.n_envs, size=len(batch_inds))
        batch_inds, env_indices = self._valid_indices(np.array(batch_inds), env_indices)
        flat = batch_inds * self.n_envs + env_indices
        return self._get_samples_at(flat, np.ones(len(flat), dtype=np.float32), env)

    def _get_samples_at(
        self, flat: np.ndarray, weights: np.ndarray, env: VecNormalize | None
    ) -> PrioritizedReplayBufferSamples:
        batch_inds, env_indices = np.divmod(flat, self.n_envs)
        if self.n_steps == 1:
            rewards = self._rewards_at(batch_inds, env_indices, env)
            dones = (self.dones[batch_inds, env_indices] * (1 - self.timeouts[batch_inds, env_indices])).reshape(-1, 1)
            obs, next_obs = self.observation_pairs_at(batch_inds, env_indices)
            discounts = None
        else:
            next_obs, rewards, dones, discounts = self._n_step(batch_inds, env_indices, env)
            obs = self.observations_at(batch_inds, env_indices)
        # Every array here is a fresh gather, never a view of the storage: no second copy needed.
        return PrioritizedReplayBufferSamples(
            observations=self.to_torch(self._normalize_obs(obs, env), copy=False),
            actions=self.to_torch(self.actions[batch_inds, env_indices], copy=False),
            next_observations=self.to_torch(self._normalize_obs(next_obs, env), copy=False),
            dones=self.to_torch(dones, copy=False),
            rewards=self.to_torch(rewards, copy=False),
            discounts=None if discounts is None else self.to_torch(discounts, copy=False),
            weights=self.to_torch(weights.reshape(-1, 1), copy=False),
            indices=flat,
        )

    def _rewards_at(self, batch_inds: np.ndarray, env_indices: np.ndarray, env: VecNormalize | None) -> np.ndarray:
        """One-step rewards ``[batch, 1]`` of the sampled transitions (a subclass may return more columns)."""
        return self._normalize_reward(self.rewards[batch_inds, env_indices].reshape(-1, 1), env)

    def _n_step(
        self, batch_inds: np.ndarray, env_indices: np.ndarray, env: VecNormalize | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """n-step return ``sum_k gamma^k r_{t+k}`` up to the first episode end, and its bootstrap.

        The sequence stops at the first terminal or truncated step and never reads past the
        newest transition (index ``pos - 1``), whose successor is not written yet.
        """
        n = self.n_steps
        steps = np.arange(n)
        idx = (batch_inds[:, None] + steps) % self.buffer_size  # [batch, n]
        env_col = env_indices[:, None]
        ended = np.logical_or(self.dones[idx, env_col], self.timeouts[idx, env_col])
        # Steps available before the write position: the newest index is pos - 1.
        available = (self.pos - 1 - batch_inds) % self.buffer_size  # 0 for the newest transition
        ended |= steps[None, :] >= available[:, None]
        last = np.where(ended.any(axis=1), ended.argmax(axis=1), n - 1)
        mask = steps[None, :] <= last[:, None]
        rewards = self._normalize_reward(self.rewards[idx, env_col], env)
        returns = (rewards * (self.gamma ** steps.astype(np.float32)) * mask).sum(axis=1, keepdims=True)
        last_idx = idx[np.arange(len(batch_inds)), last]
        dones = self.dones[last_idx, env_indices] * (1 - self.timeouts[last_idx, env_indices])
        discounts = (self.gamma ** (last + 1).astype(np.float32)).reshape(-1, 1)
        return (
            self.next_observations_at(last_idx, env_indices),
            returns.astype(np.float32),
            dones.reshape(-1, 1).astype(np.float32),
            discounts.astype(np.float32),
        )
