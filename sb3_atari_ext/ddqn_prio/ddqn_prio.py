"""``ddqn_prio``: Double DQN with proportional prioritized experience replay."""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar, TypeVar

import torch as th
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.dqn import DQN
from torch.nn import functional as F

from sb3_atari_ext.buffers.prioritized import PrioritizedReplayBuffer, validate_per_params
from sb3_atari_ext.common.atomic import AtomicSaveMixin
from sb3_atari_ext.common.progress import ClampedProgressMixin
from sb3_atari_ext.common.q_learning import check_finite, clip_and_check_gradients, double_q_target
from sb3_atari_ext.common.torch_utils import channels_last, prefers_channels_last
from sb3_atari_ext.common.validation import (
    Q_LEARNING_RULES,
    HyperparameterError,
    check_learning_rate,
    check_net_arch,
    check_params,
    check_train_freq,
)
from sb3_atari_ext.ddqn_prio.policies import (
    CnnPolicy,
    DDQNPrioPolicy,
    LstmPolicy,
    MlpPolicy,
    MultiInputPolicy,
    NoisyCnnPolicy,
    TransformerPolicy,
)
from sb3_atari_ext.torch_layers.noisy import noisy_exploration, noisy_layers, reset_noise

SelfDDQNPrio = TypeVar("SelfDDQNPrio", bound="DDQNPrio")


class DDQNPrio(AtomicSaveMixin, ClampedProgressMixin, DQN):
    """
    Double DQN with proportional prioritized experience replay (and optional n-step, dueling).

    Papers: Double DQN, van Hasselt et al. 2016 (https://arxiv.org/abs/1509.06461);
    Prioritized Experience Replay, Schaul et al. 2016 (https://arxiv.org/abs/1511.05952);
    Dueling networks, Wang et al. 2016 (https://arxiv.org/abs/1511.06581).
    The target is ``r + gamma^k (1 - done) Q_target(s', argmax_a Q_online(s', a))``; the Huber loss
    of each sample is weighted by its importance weight and the new ``|TD error|`` becomes its
    priority. Beta is annealed linearly from ``beta`` to ``beta_final`` over the training run.
    Everything else behaves like SB3's ``DQN`` (same arguments, save/load, callbacks).

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, ...)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate, it can be a function of the current progress remaining (from 1 to 0)
    :param buffer_size: size of the replay buffer
    :param learning_starts: how many steps of the model to collect transitions for before learning starts
    :param batch_size: Minibatch size for each gradient update
    :param tau: the soft update coefficient ("Polyak update", between 0 and 1) default 1 for hard update
    :param gamma: the discount factor
    :param train_freq: Update the model every ``train_freq`` steps (or a tuple ``(5, "step")``)
    :param gradient_steps: How many gradient steps to do after each rollout (-1: as many as env steps)
    :param replay_buffer_class: Replay buffer class; ``None`` selects ``PrioritizedReplayBuffer``.
        With a non-prioritized buffer the algorithm is plain Double DQN (all weights 1). With
        ``n_steps > 1`` SB3's ``ReplayBuffer`` is replaced by its ``NStepReplayBuffer``; other
        buffers without n-step returns (``FrameReplayBuffer``) are refused.
    :param replay_buffer_kwargs: Keyword arguments for the replay buffer; ``alpha``,
        ``priority_eps``, ``priority_clip``, ``n_steps`` and ``gamma`` are filled in from this class's arguments
        unless given here.
    :param optimize_memory_usage: Not supported by the prioritized buffer
    :param n_steps: length of the n-step return (1: ordinary one-step Double DQN target)
    :param target_update_interval: update the target network every ``target_update_interval`` environment steps.
    :param exploration_fraction: fraction of entire training period over which the exploration rate is reduced
    :param exploration_initial_eps: initial value of random action probability (``None``: 1.0, or
        0 for a noisy network, which explores by its parameter noise; Fortunato et al. 2018)
    :param exploration_final_eps: final value of random action probability (``None``: 0.05, or 0
        for a noisy network)
    :param max_grad_norm: The maximum value for the gradient clipping
    :param alpha: prioritization exponent (0: uniform sampling), Schaul et al. 2016 Eq. 1
    :param beta: initial importance-sampling exponent (Schaul et al. 2016 Sec. 3.4: 0.4 for proportional)
    :param beta_final: beta reached at the end of training (1: full correction)
    :param priority_eps: constant added to ``|TD error|`` so that no transition gets priority 0
    :param priority_clip: ``|TD error|`` is clipped to at most this before it becomes a priority
        (Schaul et al. 2016 clip TD errors to [-1, 1] on Atari); ``None``: not clipped
    :param stats_window_size: Window size for the rollout logging
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments for the policy, e.g. ``dict(dueling=True)``
    :param verbose: Verbosity level: 0 no output, 1 info, 2 debug
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    #: the algorithm's name in error messages (and ``--algo``)
    algo_name: ClassVar[str] = "ddqn_prio"
    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
        "NoisyCnnPolicy": NoisyCnnPolicy,
        "TransformerPolicy": TransformerPolicy,
        "LstmPolicy": LstmPolicy,
    }
    policy: DDQNPrioPolicy

    def __init__(
        self,
        policy: str | type[DDQNPrioPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-4,
        buffer_size: int = 1_000_000,
        learning_starts: int = 100,
        batch_size: int = 32,
        tau: float = 1.0,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 4,
        gradient_steps: int = 1,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        optimize_memory_usage: bool = False,
        n_steps: int = 1,
        target_update_interval: int = 10000,
        exploration_fraction: float = 0.1,
        exploration_initial_eps: float | None = None,
        exploration_final_eps: float | None = None,
        max_grad_norm: float = 10,
        alpha: float = 0.6,
        beta: float = 0.4,
        beta_final: float = 1.0,
        priority_eps: float = 1e-6,
        priority_clip: float | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        self.validate_hyperparams(
            dict(
                learning_rate=learning_rate,
                buffer_size=buffer_size,
                learning_starts=learning_starts,
                batch_size=batch_size,
                tau=tau,
                gamma=gamma,
                train_freq=train_freq,
                gradient_steps=gradient_steps,
                target_update_interval=target_update_interval,
                exploration_fraction=exploration_fraction,
                exploration_initial_eps=exploration_initial_eps,
                exploration_final_eps=exploration_final_eps,
                max_grad_norm=max_grad_norm,
                alpha=alpha,
                beta=beta,
                beta_final=beta_final,
                priority_eps=priority_eps,
                priority_clip=priority_clip,
                n_steps=n_steps,
                replay_buffer_class=replay_buffer_class,
                replay_buffer_kwargs=replay_buffer_kwargs,
                policy_kwargs=policy_kwargs,
            )
        )
        self.alpha = alpha
        self.beta = beta
        self.beta_final = beta_final
        self.priority_eps = priority_eps
        self.priority_clip = priority_clip
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            buffer_size=buffer_size,
            learning_starts=learning_starts,
            batch_size=batch_size,
            tau=tau,
            gamma=gamma,
            train_freq=train_freq,
            gradient_steps=gradient_steps,
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            optimize_memory_usage=optimize_memory_usage,
            n_steps=n_steps,
            target_update_interval=target_update_interval,
            exploration_fraction=exploration_fraction,
            exploration_initial_eps=exploration_initial_eps,
            exploration_final_eps=exploration_final_eps,
            max_grad_norm=max_grad_norm,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
        )

    @staticmethod
    def validate_hyperparams(params: dict[str, Any]) -> None:
        """Raise :class:`HyperparameterError` (a ``ValueError``) naming the first bad key and value.

        One table for the whole signature: SB3 ``DQN``'s settings (``Q_LEARNING_RULES``: e.g.
        ``gradient_steps`` >= 1 or -1, epsilons in [0, 1], ``exploration_fraction`` in (0, 1],
        ``target_update_interval`` >= 1, ``tau`` in [0, 1], ``max_grad_norm`` > 0, a positive
        ``learning_rate`` or a schedule, ``train_freq``), the PER settings (``alpha`` and ``beta``,
        ``beta_final`` in [0, 1], ``priority_eps > 0``, ``priority_clip`` > 0 or None, ``n_steps >= 1``, also inside
        ``replay_buffer_kwargs``) and ``buffer_size >= batch_size``. Called by ``__init__`` and, with the yaml file's
        name added, by the RL Zoo bridge before anything is built.
        """
        validate_per_params(params)
        # None: "the default" for the epsilons (1 and 0.05, or 0 with a noisy network)
        given = {k: v for k, v in params.items() if not (v is None and k.startswith("exploration_") and k.endswith("_eps"))}
        check_params(given, {**Q_LEARNING_RULES, "beta_final": (lambda v: 0 <= v <= 1, "in [0, 1]")})
        check_learning_rate(params)
        check_net_arch(params.get("policy_kwargs"))
        check_train_freq(params)
        buffer_kwargs = params.get("replay_buffer_kwargs")
        if isinstance(buffer_kwargs, dict):
            try:
                validate_per_params(buffer_kwargs)
            except HyperparameterError as exc:
                raise HyperparameterError(f"replay_buffer_kwargs.{exc.key}", exc.value, exc.expected) from None
        buffer_size, batch_size = params.get("buffer_size"), params.get("batch_size")
        if buffer_size is not None and batch_size is not None and buffer_size < batch_size:
            raise HyperparameterError("buffer_size", buffer_size, f"a capacity >= batch_size ({batch_size})")
        buffer_class = params.get("replay_buffer_class")
        n_steps = params.get("n_steps") or 1
        if n_steps > 1 and isinstance(buffer_class, type) and not _has_n_step_returns(buffer_class):
            raise HyperparameterError(
                "n_steps",
                n_steps,
                f"1 with replay_buffer_class {buffer_class.__name__}, which has no n-step returns "
                "(use PrioritizedReplayBuffer, SB3's ReplayBuffer or NStepReplayBuffer)",
            )

    def _setup_model(self) -> None:
        if self.replay_buffer_class is None:
            self.replay_buffer_class = PrioritizedReplayBuffer
        if issubclass(self.replay_buffer_class, PrioritizedReplayBuffer):
            for key, value in dict(
                alpha=self.alpha,
                beta=self.beta,
                priority_eps=self.priority_eps,
                priority_clip=self.priority_clip,
                n_steps=self.n_steps,
                gamma=self.gamma,
            ).items():
                self.replay_buffer_kwargs.setdefault(key, value)
        elif self.n_steps > 1:
            # Plain Double DQN with n-step returns: SB3's NStepReplayBuffer computes them.
            if self.replay_buffer_class is ReplayBuffer:
                self.replay_buffer_class = NStepReplayBuffer
            self.replay_buffer_kwargs.setdefault("n_steps", self.n_steps)
            self.replay_buffer_kwargs.setdefault("gamma", self.gamma)
        # ``n_steps`` is handled by our buffer: hide it from SB3's NStepReplayBuffer selection
        # (and its warning about custom buffers) while the base class sets up.
        n_steps, self.n_steps = self.n_steps, 1
        try:
            super()._setup_model()
        finally:
            self.n_steps = n_steps
        if isinstance(self.replay_buffer, PrioritizedReplayBuffer):
            # the buffer owns the PER settings: an alpha in replay_buffer_kwargs wins, and the model says so
            buffer = self.replay_buffer
            self.alpha, self.priority_eps, self.priority_clip = buffer.alpha, buffer.priority_eps, buffer.priority_clip
        capacity = self.replay_buffer.buffer_size * self.replay_buffer.n_envs
        if capacity < self.batch_size:  # e.g. a memory_limit that leaves fewer slots than a batch
            limit = self.replay_buffer_kwargs.get("memory_limit")
            key, value = ("buffer_size", self.buffer_size) if limit is None else ("replay_buffer_kwargs.memory_limit", limit)
            expected = f"room for at least batch_size={self.batch_size} transitions (it holds {capacity})"
            raise HyperparameterError(key, value, expected)
        # Conv nets train ~10% faster in NHWC on CPU: this pays for Double DQN's extra forward.
        self._channels_last = prefers_channels_last(self.policy, self.device)
        if self._channels_last:
            self.policy.to(memory_format=th.channels_last)
        self._trained_parameters = list(self.policy.parameters())  # clipped at every update
        # the noisy layers, found once: noise is resampled every env step and every update
        self._noisy_online, self._noisy_target = noisy_layers(self.q_net), noisy_layers(self.q_net_target)
        self._noisy = bool(self._noisy_online)
        self._resolve_exploration()

    def _resolve_exploration(self) -> None:
        # A noisy network explores by its parameter noise: no epsilon unless the user set one.
        if self.exploration_initial_eps is None and self.exploration_final_eps is None and self._noisy:
            self.exploration_initial_eps = self.exploration_final_eps = 0.0
        if self.exploration_initial_eps is None:
            self.exploration_initial_eps = 1.0
        if self.exploration_final_eps is None:
            self.exploration_final_eps = 0.05
        self.exploration_schedule = LinearSchedule(
            self.exploration_initial_eps, self.exploration_final_eps, self.exploration_fraction
        )

    def _on_step(self) -> None:
        super()._on_step()
        if self._noisy:  # NoisyNet-DQN: new noise for every action (Fortunato et al. 2018, Alg. 1)
            reset_noise(self._noisy_online)

    def _sample_action(self, *args: Any, **kwargs: Any) -> Any:
        # Noise stays on while collecting experience (SB3 acts in eval mode); off in evaluation.
        if not self._noisy:  # no module walk per env step for ordinary networks
            return super()._sample_action(*args, **kwargs)
        with noisy_exploration(self._noisy_online):
            return super()._sample_action(*args, **kwargs)

    def beta_schedule(self, progress_remaining: float) -> float:
        """Beta annealed linearly from ``beta`` (start) to ``beta_final`` (end of training)."""
        progress = min(max(1.0 - progress_remaining, 0.0), 1.0)
        return self.beta + (self.beta_final - self.beta) * progress

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        buffer, prioritized = self._begin_train()
        stats = []
        for _ in range(gradient_steps):
            data = buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            discounts = data.discounts if data.discounts is not None else self.gamma
            observations, next_observations = self._batch_observations(data)

            self._resample_training_noise()

            # Double-Q target: online net picks a', target net evaluates it (no gradient); a noisy
            # target net uses its own noise (Fortunato et al. 2018, Alg. 1: epsilon' for the target).
            # (One online forward over s and s' together was measured slower on CPU: the backward
            # then runs over both halves, +410 us per update against 250 us for a separate forward.)
            with th.no_grad(), self._target_noise():
                target_q = double_q_target(
                    self.q_net, self.q_net_target, next_observations, data.rewards, data.dones, discounts
                )

            # Q(s, a) of the actions actually taken
            current_q_all = self.q_net(observations)
            current_q = current_q_all.gather(1, data.actions.long())

            # Huber loss per sample, weighted by the importance weights (Schaul et al. Alg. 1 l. 10-11)
            elementwise = F.smooth_l1_loss(current_q, target_q, reduction="none")
            loss = (data.weights * elementwise).mean() if prioritized else elementwise.mean()
            td_abs = (current_q - target_q).detach().abs()
            self._gradient_step(loss)

            # New priorities from |TD error| (Alg. 1 line 12)
            if prioritized:
                buffer.update_priorities(data.indices, td_abs.squeeze(1).cpu().numpy())
            q_detached = current_q_all.detach()
            stats.append(th.stack([loss.detach(), q_detached.mean(), q_detached.max(), td_abs.mean()]))
        self._end_train(gradient_steps, ("loss", "q_mean", "q_max", "td_abs_mean"), stats)

    # -- the parts of ``train`` shared with subclasses (SplitQ) ---------------------------------
    def _begin_train(self) -> tuple[Any, bool]:
        """Train mode, learning-rate schedule, PER's beta schedule; returns the buffer and whether
        it is prioritized."""
        self.policy.set_training_mode(True)  # affects batch norm / dropout
        self._update_learning_rate(self.policy.optimizer)
        buffer = self.replay_buffer
        prioritized = isinstance(buffer, PrioritizedReplayBuffer)
        if prioritized:
            buffer.beta = self.beta_schedule(self._current_progress_remaining)
        return buffer, prioritized

    def _resample_training_noise(self) -> None:
        """Independent noise for the online and target networks for each batch."""
        if self._noisy:
            reset_noise(self._noisy_online)
            reset_noise(self._noisy_target)

    def _target_noise(self) -> Any:
        """A noisy target network evaluates with its own noise inside this block."""
        return noisy_exploration(self._noisy_target) if self._noisy else contextlib.nullcontext()

    def _batch_observations(self, data: Any) -> tuple[th.Tensor, th.Tensor]:
        """Observations and next observations of a sampled batch, channel-first for the networks."""
        if self._channels_last:
            return channels_last(data.observations), channels_last(data.next_observations)
        return data.observations, data.next_observations

    def _gradient_step(self, loss: th.Tensor) -> None:
        """One optimizer step on ``loss``; a non-finite loss or gradient is a clear error."""
        check_finite(loss.item(), self.algo_name, self._n_updates, self.num_timesteps)
        self.policy.optimizer.zero_grad()
        loss.backward()
        clip_and_check_gradients(
            self._trained_parameters, self.max_grad_norm, self.algo_name, self._n_updates, self.num_timesteps
        )
        self.policy.optimizer.step()

    def _end_train(self, gradient_steps: int, names: tuple[str, ...], stats: list[th.Tensor]) -> None:
        """Count the updates and log the means of ``stats`` (one tensor of ``names`` per gradient
        step) as ``train/<name>``, with PER's beta and priority statistics."""
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        for name, value in zip(names, th.stack(stats).mean(dim=0).tolist(), strict=True):
            self.logger.record(f"train/{name}", value)
        buffer = self.replay_buffer
        if isinstance(buffer, PrioritizedReplayBuffer):
            self.logger.record("train/beta", buffer.beta)
            for key, value in buffer.priority_stats().items():
                self.logger.record(f"train/{key}", value)

    def _excluded_save_params(self) -> list[str]:
        return [
            *super()._excluded_save_params(),
            "_channels_last",
            "_noisy",
            "_noisy_online",
            "_noisy_target",
            "_trained_parameters",
        ]

    def learn(
        self: SelfDDQNPrio,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "DDQNPrio",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfDDQNPrio:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )


def _has_n_step_returns(buffer_class: type) -> bool:
    # SB3's plain ReplayBuffer is swapped for its NStepReplayBuffer in ``_setup_model``.
    return buffer_class is ReplayBuffer or issubclass(buffer_class, (PrioritizedReplayBuffer, NStepReplayBuffer))


__all__ = ["DDQNPrio"]
