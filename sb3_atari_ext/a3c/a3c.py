"""A3C: synchronous many-env advantage actor-critic with an LSTM policy (Mnih et al. 2016).

The asynchronous original (and seed 003) runs one worker process per env, each pushing
gradients into a shared optimizer. On one machine the synchronous form does the same work with
one batched forward pass per step over all envs, which is what ``A3C`` does: ``n_envs`` envs
(16 in ``hyperparams/a3c.yml``; with ``vec_env: envpool`` they step in C++ threads), rollouts of
``n_steps`` steps, n-step returns (``gae_lambda=1``; GAE with ``gae_lambda < 1``), an entropy
bonus, gradient-norm clipping and RMSProp with the paper's settings, one update per rollout.

The LSTM state is carried from one rollout to the next and zeroed per env at episode starts;
rollout storage, sequence padding and the recurrent ``predict`` (used by ``rl_zoo3.enjoy``) are
sb3-contrib's ``RecurrentPPO`` machinery, which this class reuses.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.type_aliases import GymEnv, Schedule
from stable_baselines3.common.utils import explained_variance

from sb3_atari_ext.a3c.policies import A3CCnnLstmPolicy, A3CLstmPolicy, A3CMultiInputLstmPolicy
from sb3_atari_ext.common.q_learning import check_finite
from sb3_atari_ext.common.validation import check_params


class A3C(RecurrentPPO):
    """Advantage actor-critic over many envs with a recurrent (LSTM) policy.

    Defaults are the A3C paper's Atari settings: ``n_steps=5`` (t_max), ``gamma=0.99``,
    entropy bonus 0.01, value-loss weight 0.5, gradient-norm clip 40 (seed 003) and RMSProp with
    decay 0.99 and epsilon 0.1 inside the square root, as in the paper's update rule
    (SB3's ``RMSpropTFLike``). Pass ``policy_kwargs=dict(optimizer_class=..., optimizer_kwargs=...)``
    to change the optimizer.

    :param policy: ``MlpLstmPolicy``, ``CnnLstmPolicy``, ``MultiInputLstmPolicy`` or a class;
        the policies share one trunk (extractor + LSTM) between actor and critic by default
        (``policy_kwargs=dict(shared_lstm=False)`` gives separate LSTMs)
    :param env: the environment (a ``VecEnv`` with many envs for A3C's throughput)
    :param learning_rate: learning rate, constant or a schedule of the remaining progress
    :param n_steps: steps per env per update (A3C's t_max)
    :param gamma: discount factor
    :param gae_lambda: 1.0 gives the paper's n-step returns; < 1 gives GAE(lambda)
    :param ent_coef: entropy bonus weight
    :param vf_coef: value-loss weight
    :param max_grad_norm: gradient-norm clip
    :param normalize_advantage: normalize advantages per update (off in A3C)
    :param rms_prop_eps: RMSProp epsilon (inside the square root)
    :param rms_prop_alpha: RMSProp decay
    :param stats_window_size: episodes in the rollout/ep_* averages
    :param tensorboard_log: tensorboard folder
    :param policy_kwargs: policy arguments (``lstm_hidden_size``, ``features_extractor_class``, ...)
    :param verbose: 0, 1 or 2
    :param seed: random seed
    :param device: ``cpu``, ``cuda`` or ``auto``
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpLstmPolicy": A3CLstmPolicy,
        "CnnLstmPolicy": A3CCnnLstmPolicy,
        "MultiInputLstmPolicy": A3CMultiInputLstmPolicy,
    }

    def __init__(
        self,
        policy: str | type[BasePolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 7e-4,
        n_steps: int = 5,
        gamma: float = 0.99,
        gae_lambda: float = 1.0,
        ent_coef: float = 0.01,
        vf_coef: float = 0.5,
        max_grad_norm: float = 40.0,
        normalize_advantage: bool = False,
        rms_prop_eps: float = 0.1,
        rms_prop_alpha: float = 0.99,
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
                n_steps=n_steps,
                gamma=gamma,
                gae_lambda=gae_lambda,
                ent_coef=ent_coef,
                vf_coef=vf_coef,
                max_grad_norm=max_grad_norm,
                rms_prop_eps=rms_prop_eps,
                rms_prop_alpha=rms_prop_alpha,
            )
        )
        policy_kwargs = dict(policy_kwargs or {})
        if "optimizer_class" not in policy_kwargs:
            policy_kwargs["optimizer_class"] = RMSpropTFLike
            policy_kwargs["optimizer_kwargs"] = {
                "alpha": rms_prop_alpha,
                "eps": rms_prop_eps,
                "weight_decay": 0,
                **policy_kwargs.get("optimizer_kwargs", {}),
            }
        self.rms_prop_eps = rms_prop_eps
        self.rms_prop_alpha = rms_prop_alpha
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            batch_size=None,
            n_epochs=1,
            gamma=gamma,
            gae_lambda=gae_lambda,
            normalize_advantage=normalize_advantage,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
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
        """Raise ``HyperparameterError`` (a ``ValueError``) naming the first bad key and value.

        Also called by the RL Zoo bridge, with the yaml file's name, before anything is built.
        """
        check_params(
            params,
            {
                "n_steps": (lambda v: v >= 1 and float(v).is_integer(), "an integer >= 1"),
                "gamma": (lambda v: 0 <= v <= 1, "in [0, 1]"),
                "gae_lambda": (lambda v: 0 <= v <= 1, "in [0, 1]"),
                "ent_coef": (lambda v: v >= 0, ">= 0"),
                "vf_coef": (lambda v: v >= 0, ">= 0"),
                "max_grad_norm": (lambda v: v > 0, "> 0"),
                "rms_prop_eps": (lambda v: v > 0, "> 0"),
                "rms_prop_alpha": (lambda v: 0 < v < 1, "in (0, 1)"),
                "n_envs": (lambda v: v >= 1 and float(v).is_integer(), "an integer >= 1"),
            },
        )

    def train(self) -> None:
        """One gradient step on the whole rollout (all envs, all steps)."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        for data in self.rollout_buffer.get(batch_size=None):  # one batch: every padded sequence
            actions = data.actions
            if isinstance(self.action_space, spaces.Discrete):
                actions = actions.long().flatten()
            mask = data.mask > 1e-8
            values, log_prob, entropy = self.policy.evaluate_actions(
                data.observations, actions, data.lstm_states, data.episode_starts
            )
            values = values.flatten()
            advantages = data.advantages
            if self.normalize_advantage:
                advantages = (advantages - advantages[mask].mean()) / (advantages[mask].std() + 1e-8)
            policy_loss = -(advantages * log_prob)[mask].mean()
            value_loss = ((data.returns - values) ** 2)[mask].mean()
            entropy_loss = -(entropy[mask].mean() if entropy is not None else (-log_prob[mask]).mean())
            loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss
            check_finite(loss.item(), "a3c", self._n_updates, self.num_timesteps)

            self.policy.optimizer.zero_grad()
            loss.backward()
            grad_norm = th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
        self._n_updates += 1

        explained_var = explained_variance(self.rollout_buffer.values.flatten(), self.rollout_buffer.returns.flatten())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/explained_variance", explained_var)
        self.logger.record("train/entropy_loss", entropy_loss.item())
        self.logger.record("train/policy_loss", policy_loss.item())
        self.logger.record("train/value_loss", value_loss.item())
        self.logger.record("train/loss", loss.item())
        self.logger.record("train/grad_norm", float(grad_norm))
        self.logger.record("train/mean_value", float(np.mean(self.rollout_buffer.values)))
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())

    def learn(
        self,
        total_timesteps: int,
        callback: Any = None,
        log_interval: int = 100,
        tb_log_name: str = "A3C",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> A3C:
        """As SB3's ``learn``; ``log_interval`` counts rollouts (100, as SB3's ``A2C``)."""
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
