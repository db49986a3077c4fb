"""``pqn``: Parallelised Q-Network (Gallici et al. 2024, "Simplifying Deep Temporal Difference
Learning", https://arxiv.org/abs/2407.04811)."""

from __future__ import annotations

import math
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import LinearSchedule, obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv

from sb3_atari_ext.common.atomic import AtomicSaveMixin
from sb3_atari_ext.common.progress import ClampedProgressMixin
from sb3_atari_ext.common.q_learning import check_finite, clip_and_check_gradients, q_lambda_returns
from sb3_atari_ext.common.validation import (
    HyperparameterError,
    check_learning_rate,
    check_net_arch,
    check_params,
    is_int,
)
from sb3_atari_ext.pqn.policies import CnnPolicy, MlpPolicy, MultiInputPolicy, PQNPolicy

SelfPQN = TypeVar("SelfPQN", bound="PQN")


class PQN(AtomicSaveMixin, ClampedProgressMixin, BaseAlgorithm):
    """
    PQN: Q-learning over many vectorized envs with no replay buffer and no target network.

    Every ``n_steps`` steps of the ``n_envs`` envs (one batched forward per step, epsilon-greedy
    actions), the Q(lambda) return of every step is computed backwards from the Q-values of the
    network that acted (:func:`~sb3_atari_ext.common.q_learning.q_lambda_returns`: termination
    cuts the return, truncation bootstraps from the true last observation), then the rollout is
    learned in ``n_epochs`` passes of ``n_minibatches`` minibatches with the loss
    ``0.5 (Q(s, a) - G^lambda)^2``, RAdam and gradient clipping. LayerNorm in the network keeps
    this stable (Gallici et al. 2024, Sec. 4). Defaults are the authors' Atari settings
    (purejaxql, ``pqn_atari``): 32 steps, 2 epochs x 32 minibatches, lambda 0.65, lr 2.5e-4,
    max grad norm 10, epsilon 1 -> 0.001 over the first 10% of training; the paper uses 128 envs.

    :param policy: ``MlpPolicy``, ``CnnPolicy``, ``MultiInputPolicy`` or a class
    :param env: the environment; a ``VecEnv`` with many envs is the point of the method
    :param learning_rate: learning rate, constant or a schedule of the remaining progress
    :param n_steps: steps per env per rollout
    :param n_epochs: passes over each rollout
    :param n_minibatches: minibatches per pass (each ``n_steps * n_envs / n_minibatches`` samples)
    :param gamma: discount factor
    :param q_lambda: lambda of the Q(lambda) returns (0: one-step targets)
    :param max_grad_norm: gradient-norm clip
    :param exploration_fraction: fraction of training over which epsilon goes from initial to final
    :param exploration_initial_eps: epsilon at the start
    :param exploration_final_eps: epsilon after ``exploration_fraction`` of training
    :param stats_window_size: episodes in the rollout/ep_* averages
    :param tensorboard_log: tensorboard folder
    :param policy_kwargs: policy arguments (``net_arch``, ``features_extractor_class``, ``layer_norm``, ...)
    :param verbose: 0, 1 or 2
    :param seed: random seed
    :param device: ``cpu``, ``cuda`` or ``auto``
    """

    #: the algorithm's name in error messages (and ``--algo``)
    algo_name: ClassVar[str] = "pqn"
    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    policy: PQNPolicy

    def __init__(
        self,
        policy: str | type[PQNPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 2.5e-4,
        n_steps: int = 32,
        n_epochs: int = 2,
        n_minibatches: int = 32,
        gamma: float = 0.99,
        q_lambda: float = 0.65,
        max_grad_norm: float = 10.0,
        exploration_fraction: float = 0.1,
        exploration_initial_eps: float = 1.0,
        exploration_final_eps: float = 0.001,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        self.validate_hyperparams(
            dict(learning_rate=learning_rate, n_steps=n_steps, n_epochs=n_epochs, n_minibatches=n_minibatches, gamma=gamma,
                 q_lambda=q_lambda, max_grad_norm=max_grad_norm, exploration_fraction=exploration_fraction,
                 exploration_initial_eps=exploration_initial_eps, exploration_final_eps=exploration_final_eps,
                 policy_kwargs=policy_kwargs)  # fmt: skip
        )
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            policy_kwargs=policy_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            seed=seed,
            supported_action_spaces=(spaces.Discrete,),
            support_multi_env=True,
        )
        self.n_steps, self.n_epochs, self.n_minibatches = n_steps, n_epochs, n_minibatches
        self.gamma, self.q_lambda, self.max_grad_norm = gamma, q_lambda, max_grad_norm
        self.exploration_fraction = exploration_fraction
        self.exploration_initial_eps, self.exploration_final_eps = exploration_initial_eps, exploration_final_eps
        self.exploration_rate = exploration_initial_eps
        self._n_updates = 0
        if _init_setup_model:
            self._setup_model()

    @staticmethod
    def validate_hyperparams(params: dict[str, Any]) -> None:
        """Raise ``HyperparameterError`` naming the first bad key and value (also called by the RL
        Zoo bridge, with the yaml file's name, before anything is built)."""
        count = (lambda v: is_int(v) and v >= 1, "an integer >= 1")
        unit = (lambda v: 0 <= v <= 1, "in [0, 1]")
        check_params(
            params,
            {
                "n_steps": count, "n_epochs": count, "n_minibatches": count, "n_envs": count, "gamma": unit,
                "q_lambda": unit, "exploration_initial_eps": unit, "exploration_final_eps": unit,
                "max_grad_norm": (lambda v: v > 0, "> 0"), "exploration_fraction": (lambda v: 0 < v <= 1, "in (0, 1]"),
            },
        )  # fmt: skip
        check_learning_rate(params)
        check_net_arch(params.get("policy_kwargs"))

    def _setup_model(self) -> None:
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        self.policy = self.policy_class(self.observation_space, self.action_space, self.lr_schedule, **self.policy_kwargs)
        self.policy = self.policy.to(self.device)
        self.q_net = self.policy.q_net
        self.exploration_schedule = LinearSchedule(
            self.exploration_initial_eps, self.exploration_final_eps, self.exploration_fraction
        )
        batch = self.n_steps * self.n_envs
        if batch < self.n_minibatches:
            expected = f"at most n_steps * n_envs = {batch} (one sample per minibatch at least)"
            raise HyperparameterError("n_minibatches", self.n_minibatches, expected)

    # -- acting ---------------------------------------------------------------------------------
    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Greedy actions; epsilon-greedy with the current epsilon unless ``deterministic``."""
        actions, state = self.policy.predict(observation, state, episode_start, deterministic=True)
        if not deterministic and self.exploration_rate > 0:
            explore = self.np_random().random(np.shape(actions)) < self.exploration_rate
            if np.any(explore):
                actions = np.where(explore, self._random_actions(len(np.atleast_1d(actions))), actions)
        return actions, state

    def np_random(self) -> np.random.Generator:
        if getattr(self, "_np_random", None) is None:
            self._np_random = np.random.default_rng(self.seed)
        return self._np_random

    def _random_actions(self, n: int) -> np.ndarray:
        return self.np_random().integers(0, int(self.action_space.n), size=n)

    def collect_rollout(self, env: VecEnv, callback: BaseCallback) -> bool:
        """``n_steps`` steps of every env: observations, actions and the Q(lambda) returns of the
        network that acted. Returns ``False`` when a callback stopped training."""
        assert self._last_obs is not None
        self.policy.set_training_mode(False)
        n_envs, device = env.num_envs, self.device
        observations, actions = [], []
        rewards = th.zeros(self.n_steps, n_envs, device=device)
        next_q = th.zeros(self.n_steps, n_envs, device=device)
        terminated = th.zeros(self.n_steps, n_envs, device=device)
        episode_ends = th.zeros(self.n_steps, n_envs, device=device)
        callback.on_rollout_start()
        with th.no_grad():
            q = self.q_net(obs_as_tensor(self._last_obs, device))
        for t in range(self.n_steps):
            # epsilon-greedy over the batched forward of all envs (one epsilon for all, as in PQN)
            self.exploration_rate = self.exploration_schedule(self._current_progress_remaining)
            chosen = q.argmax(dim=1).cpu().numpy()
            explore = self.np_random().random(n_envs) < self.exploration_rate
            chosen = np.where(explore, self._random_actions(n_envs), chosen)
            observations.append(obs_as_tensor(self._last_obs, device))
            actions.append(th.as_tensor(chosen, device=device))
            new_obs, step_rewards, dones, infos = env.step(chosen)
            self.num_timesteps += n_envs
            callback.update_locals(locals())
            if not callback.on_step():
                return False
            self._update_info_buffer(infos, dones)
            with th.no_grad():
                q = self.q_net(obs_as_tensor(new_obs, device))
                step_next_q = q.max(dim=1).values
                ended = np.flatnonzero(dones)
                if len(ended):  # the true last observation of each finished episode (SB3 resets)
                    last = np.stack([infos[i]["terminal_observation"] for i in ended])
                    step_next_q[th.as_tensor(ended, device=device)] = self.q_net(obs_as_tensor(last, device)).max(dim=1).values
            truncated = np.zeros(n_envs, dtype=bool)  # only an env whose episode just ended can be truncated
            truncated[ended] = [bool(infos[i].get("TimeLimit.truncated", False)) for i in ended]
            rewards[t] = th.as_tensor(step_rewards, dtype=th.float32, device=device)
            next_q[t] = step_next_q
            terminated[t] = th.as_tensor(dones & ~truncated, dtype=th.float32, device=device)
            episode_ends[t] = th.as_tensor(dones, dtype=th.float32, device=device)
            self._last_obs = new_obs  # type: ignore[assignment]
            self._last_episode_starts = dones
        with th.no_grad():
            returns = q_lambda_returns(rewards, next_q, terminated, episode_ends, self.gamma, self.q_lambda)
        self._rollout = (_flatten(observations), th.stack(actions).reshape(-1, 1).long(), returns.reshape(-1))
        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    # -- learning -------------------------------------------------------------------------------
    def train(self) -> None:
        """``n_epochs`` passes over the rollout in ``n_minibatches`` minibatches."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        observations, actions, returns = self._rollout
        size = len(returns)
        batch = math.ceil(size / self.n_minibatches)
        losses, q_means = [], []
        for _ in range(self.n_epochs):
            order = th.randperm(size, device=self.device)
            for start in range(0, size, batch):
                index = order[start : start + batch]
                q_taken = self.q_net(_select(observations, index)).gather(1, actions[index]).squeeze(1)
                # regress Q(s, a) on the Q(lambda) return (Gallici et al. 2024, Alg. 1)
                loss = 0.5 * ((q_taken - returns[index]) ** 2).mean()
                check_finite(loss.item(), self.algo_name, self._n_updates, self.num_timesteps)
                self.policy.optimizer.zero_grad()
                loss.backward()
                clip_and_check_gradients(
                    self.policy.parameters(), self.max_grad_norm, self.algo_name, self._n_updates, self.num_timesteps
                )
                self.policy.optimizer.step()
                self._n_updates += 1
                losses.append(loss.detach())
                q_means.append(q_taken.detach().mean())
        self._rollout = None
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", th.stack(losses).mean().item())
        self.logger.record("train/q_mean", th.stack(q_means).mean().item())
        self.logger.record("train/return_mean", returns.mean().item())
        self.logger.record("rollout/exploration_rate", self.exploration_rate)

    def learn(
        self: SelfPQN,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "PQN",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfPQN:
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        callback.on_training_start(locals(), globals())
        assert self.env is not None
        iteration = 0
        while self.num_timesteps < total_timesteps:
            if not self.collect_rollout(self.env, callback):
                break
            iteration += 1
            self._update_current_progress_remaining(self.num_timesteps, total_timesteps)
            self.train()
            if log_interval and iteration % log_interval == 0:
                self.dump_logs()
        callback.on_training_end()
        return self

    def dump_logs(self) -> None:
        """Episode statistics and timing, as SB3's on-policy algorithms log them."""
        import time

        elapsed = max((time.time_ns() - self.start_time) / 1e9, 1e-9)
        if self.ep_info_buffer:
            self.logger.record("rollout/ep_rew_mean", float(np.mean([e["r"] for e in self.ep_info_buffer])))
            self.logger.record("rollout/ep_len_mean", float(np.mean([e["l"] for e in self.ep_info_buffer])))
        self.logger.record("time/fps", int((self.num_timesteps - self._num_timesteps_at_start) / elapsed))
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(step=self.num_timesteps)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "q_net", "_rollout", "_np_random"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "policy.optimizer"], []


def _flatten(observations: list[Any]) -> Any:
    """``[n_steps]`` batches of ``[n_envs, ...]`` observations -> one ``[n_steps * n_envs, ...]`` batch."""
    if isinstance(observations[0], dict):
        return {key: th.cat([o[key] for o in observations]) for key in observations[0]}
    return th.cat(observations)


def _select(observations: Any, index: th.Tensor) -> Any:
    if isinstance(observations, dict):
        return {key: value[index] for key, value in observations.items()}
    return observations[index]


__all__ = ["PQN"]
