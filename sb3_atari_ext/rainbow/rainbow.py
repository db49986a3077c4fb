"""``rainbow``: Double DQN + prioritized replay + n-step + dueling + noisy nets + C51."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch as th
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, Schedule

from sb3_atari_ext.common.q_learning import categorical_double_q_target, quantile_double_q_target, quantile_huber_loss
from sb3_atari_ext.common.validation import HyperparameterError, check_params, is_int
from sb3_atari_ext.ddqn_prio.ddqn_prio import DDQNPrio
from sb3_atari_ext.rainbow.policies import (
    DISTRIBUTIONS,
    CnnPolicy,
    DistributionalQNetwork,
    MlpPolicy,
    MultiInputPolicy,
    QuantileQNetwork,
    RainbowPolicy,
)

#: what Rainbow turns on in the network unless ``policy_kwargs`` says otherwise (Hessel et al. 2018,
#: Table 1: dueling, noisy nets with sigma_0 0.5 in every fully connected layer, Adam eps 1.5e-4)
DEFAULT_POLICY_KWARGS: dict[str, Any] = {"dueling": True, "noisy": True, "noisy_sigma": 0.5, "noisy_extractor": True}
ADAM_EPS = 1.5e-4


class Rainbow(DDQNPrio):
    """
    Rainbow (Hessel et al. 2018, https://arxiv.org/abs/1710.02298): ``ddqn_prio`` with a
    distributional head. The network predicts, for each action, a categorical distribution over
    ``n_atoms`` returns evenly spaced in ``[v_min, v_max]`` (C51, Bellemare et al. 2017,
    https://arxiv.org/abs/1707.06887). The target is the target network's distribution for the
    online network's greedy action (double Q) at the n-step next state, shifted by the n-step
    return, discounted by ``gamma^n`` and projected back onto the support; the loss is the
    cross-entropy to it, weighted by PER's importance weights, and becomes the sample's new priority
    (Hessel et al. Sec. 3, "Prioritized replay"). Defaults are Rainbow's Atari settings (Table 1):
    3-step returns, alpha 0.5, beta 0.4 -> 1, dueling, noisy nets in every fully connected layer
    (no epsilon), Adam lr 6.25e-5 with eps 1.5e-4, target network copied every 8,000 agent steps
    (32k frames), learning from 20,000 agent steps (80k frames).

    :param n_atoms: number of atoms of the support (51)
    :param v_min: smallest return of the support (-10)
    :param v_max: largest return of the support (10)

    Every other parameter is :class:`~sb3_atari_ext.DDQNPrio`'s; ``policy_kwargs`` default to
    ``dueling=True, noisy=True, noisy_sigma=0.5, noisy_extractor=True`` and
    ``optimizer_kwargs=dict(eps=1.5e-4)``, each overridable.

    ``policy_kwargs=dict(distribution="quantile")`` swaps C51 for QR-DQN's head (Dabney et al. 2018,
    https://arxiv.org/abs/1710.10044): ``n_atoms`` quantiles per action at the midpoints
    ``tau_i``, the target network's quantiles for the online network's greedy action shifted by the
    n-step return, the quantile Huber loss (kappa 1) weighted by PER's importance weights and used
    as each sample's priority; ``v_min`` / ``v_max`` are then unused.
    """

    algo_name: ClassVar[str] = "rainbow"
    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    policy: RainbowPolicy
    q_net: DistributionalQNetwork
    q_net_target: DistributionalQNetwork

    def __init__(
        self,
        policy: str | type[RainbowPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 6.25e-5,
        buffer_size: int = 1_000_000,
        learning_starts: int = 20_000,
        batch_size: int = 32,
        tau: float = 1.0,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 4,
        gradient_steps: int = 1,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        optimize_memory_usage: bool = False,
        n_steps: int = 3,
        target_update_interval: int = 8000,
        exploration_fraction: float = 0.1,
        exploration_initial_eps: float | None = None,
        exploration_final_eps: float | None = None,
        max_grad_norm: float = 10,
        alpha: float = 0.5,
        beta: float = 0.4,
        beta_final: float = 1.0,
        priority_eps: float = 1e-6,
        priority_clip: float | None = None,
        n_atoms: int = 51,
        v_min: float = -10.0,
        v_max: float = 10.0,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        self.validate_hyperparams(dict(n_atoms=n_atoms, v_min=v_min, v_max=v_max))
        self.n_atoms, self.v_min, self.v_max = n_atoms, v_min, v_max
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
            alpha=alpha,
            beta=beta,
            beta_final=beta_final,
            priority_eps=priority_eps,
            priority_clip=priority_clip,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=rainbow_policy_kwargs(policy_kwargs, n_atoms, v_min, v_max),
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
        )

    @staticmethod
    def validate_hyperparams(params: dict[str, Any]) -> None:
        """``ddqn_prio``'s checks plus the support: ``n_atoms`` an integer >= 2, ``v_min < v_max``."""
        DDQNPrio.validate_hyperparams(params)
        check_params(
            params,
            {
                "n_atoms": (lambda v: is_int(v) and v >= 2, "an integer >= 2"),
                "v_min": (math.isfinite, "finite"),
                "v_max": (math.isfinite, "finite"),
            },
        )
        v_min, v_max = params.get("v_min"), params.get("v_max")
        if v_min is not None and v_max is not None and not v_min < v_max:
            raise HyperparameterError("v_max", v_max, f"a number > v_min ({v_min})")

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        buffer, prioritized = self._begin_train()
        quantile = isinstance(self.q_net, QuantileQNetwork)
        sample_losses_of = self._quantile_losses if quantile else self._categorical_losses
        stats = []
        for _ in range(gradient_steps):
            data = buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            discounts = data.discounts if data.discounts is not None else self.gamma
            observations, next_observations = self._batch_observations(data)
            self._resample_training_noise()
            sample_losses, q_values = sample_losses_of(data, observations, next_observations, discounts)
            # weighted by PER's importance weights
            loss = (data.weights.squeeze(1) * sample_losses).mean() if prioritized else sample_losses.mean()
            self._gradient_step(loss)
            # New priorities: each sample's loss (Hessel et al. Sec. 3; Dopamine uses the same)
            if prioritized:
                buffer.update_priorities(data.indices, sample_losses.detach().cpu().numpy())
            stats.append(th.stack([loss.detach(), q_values.mean(), q_values.max(), sample_losses.detach().mean()]))
        name = "quantile_loss_mean" if quantile else "cross_entropy_mean"
        self._end_train(gradient_steps, ("loss", "q_mean", "q_max", name), stats)

    def _categorical_losses(
        self, data: Any, observations: th.Tensor, next_observations: th.Tensor, discounts: th.Tensor | float
    ) -> tuple[th.Tensor, th.Tensor]:
        """C51: each sample's cross-entropy to the projected target, and the batch's Q-values."""
        support = self.q_net.support
        # Target distribution: online net picks a* by its mean, target net's distribution for
        # a* shifted by the n-step return and projected onto the support (Hessel et al. Eq. 2)
        with th.no_grad(), self._target_noise():
            target_probs = categorical_double_q_target(
                self.q_net, self.q_net_target, next_observations, data.rewards, data.dones, discounts, support
            )
        # log p(s, a) of the actions actually taken
        log_probs = self.q_net.log_probs(observations)
        chosen = log_probs[th.arange(log_probs.shape[0], device=log_probs.device), data.actions.long().squeeze(1)]
        return -(target_probs * chosen).sum(dim=1), (log_probs.detach().exp() * support).sum(dim=2)

    def _quantile_losses(
        self, data: Any, observations: th.Tensor, next_observations: th.Tensor, discounts: th.Tensor | float
    ) -> tuple[th.Tensor, th.Tensor]:
        """The quantile head: each sample's quantile Huber loss to the shifted target quantiles of
        the online network's greedy action (double Q), and the batch's Q-values."""
        with th.no_grad(), self._target_noise():
            targets = quantile_double_q_target(
                self.q_net, self.q_net_target, next_observations, data.rewards, data.dones, discounts
            )
        quantiles = self.q_net.quantiles(observations)
        chosen = quantiles[th.arange(quantiles.shape[0], device=quantiles.device), data.actions.long().squeeze(1)]
        return quantile_huber_loss(chosen, targets, self.q_net.taus), quantiles.detach().mean(dim=2)


def rainbow_policy_kwargs(policy_kwargs: dict[str, Any] | None, n_atoms: int, v_min: float, v_max: float) -> dict[str, Any]:
    """``policy_kwargs`` over Rainbow's defaults, with the support of the algorithm's arguments and
    Adam's eps 1.5e-4 unless ``optimizer_kwargs`` sets one."""
    kwargs = {**DEFAULT_POLICY_KWARGS, **(policy_kwargs or {})}
    if kwargs.get("distribution", "categorical") not in DISTRIBUTIONS:
        raise HyperparameterError("policy_kwargs.distribution", kwargs["distribution"], f"one of {sorted(DISTRIBUTIONS)}")
    for key in ("n_atoms", "v_min", "v_max"):
        if key in kwargs and kwargs[key] != locals()[key]:
            raise HyperparameterError(f"policy_kwargs.{key}", kwargs[key], f"the algorithm argument {key} instead")
    kwargs.update(n_atoms=n_atoms, v_min=v_min, v_max=v_max)
    optimizer_class = kwargs.get("optimizer_class", th.optim.Adam)
    if optimizer_class in (th.optim.Adam, th.optim.AdamW):
        kwargs["optimizer_kwargs"] = {"eps": ADAM_EPS, **(kwargs.get("optimizer_kwargs") or {})}
    return kwargs


__all__ = ["Rainbow"]
