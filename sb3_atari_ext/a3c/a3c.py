"""A3C: synchronous many-env advantage actor-critic with an LSTM policy (Mnih et al. 2016).

The asynchronous original (and the A3C-LSTM project) runs one worker process per env, each pushing
gradients into a shared optimizer. On one machine the synchronous form does the same work with
one batched forward pass per step over all envs, which is what ``A3C`` does: ``n_envs`` envs
(16 in ``hyperparams/a3c.yml``; with ``vec_env: envpool`` they step in C++ threads), rollouts of
``n_steps`` steps, n-step returns (``gae_lambda=1``; GAE with ``gae_lambda < 1``), an entropy
bonus, gradient-norm clipping and RMSProp with the paper's settings, one update per rollout.

The LSTM state is carried from one rollout to the next and zeroed per env at episode starts;
rollout storage, sequence padding and the recurrent ``predict`` (used by ``rl_zoo3.enjoy``) are
sb3-contrib's ``RecurrentPPO`` machinery, which this class reuses.

Fast path: with one gradient step per rollout the parameters do not change between acting and
learning, so (as the original A3C workers do) the forward passes made while acting are kept with
their autograd graph and the update back-propagates through them directly, instead of storing
observations and running the whole rollout through the network a second time. It gives the same
gradients (tested against the stored-rollout path) and applies to discrete actions, image or
vector observations, the shared trunk, and networks without dropout or batch norm (whose
training and acting modes differ); anything else takes sb3-contrib's path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib import RecurrentPPO
from sb3_contrib.common.recurrent.buffers import RecurrentDictRolloutBuffer, RecurrentRolloutBuffer
from sb3_contrib.common.recurrent.type_aliases import RNNStates
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.type_aliases import GymEnv, Schedule
from stable_baselines3.common.utils import explained_variance, obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv
from torch import nn

from sb3_atari_ext.a3c.policies import A3CCnnLstmPolicy, A3CLstmPolicy, A3CMultiInputLstmPolicy
from sb3_atari_ext.common.atomic import AtomicSaveMixin
from sb3_atari_ext.common.optim import RMSpropTFLike
from sb3_atari_ext.common.progress import ClampedProgressMixin
from sb3_atari_ext.common.q_learning import NonFiniteLossError, check_finite, clip_and_check_gradients
from sb3_atari_ext.common.torch_utils import channels_last, fast_optimizer_kwargs, prefers_channels_last
from sb3_atari_ext.common.validation import (
    HyperparameterError,
    check_learning_rate,
    check_net_arch,
    check_params,
    is_int,
)


class _WholeRolloutInOrder:
    """One batch of the whole rollout, every env's steps in time order.

    sb3-contrib's ``get()`` rotates the rollout by a random index (a PPO minibatch device) and so
    starts a new sequence there: back-propagation through time is cut at a random step of each
    update. A3C back-propagates through the whole ``n_steps`` rollout (as the fast path does).
    """

    def get(self, batch_size: int | None = None) -> Iterator[Any]:
        if not self.generator_ready:  # type: ignore[attr-defined]
            next(super().get(None))  # type: ignore[misc]  # lays the arrays out; that (rotated) batch is dropped
        env_change = np.zeros((self.buffer_size, self.n_envs))  # type: ignore[attr-defined]
        env_change[0, :] = 1.0
        indices = np.arange(self.buffer_size * self.n_envs)  # type: ignore[attr-defined]
        yield self._get_samples(indices, self.swap_and_flatten(env_change))  # type: ignore[attr-defined]


class A3CRolloutBuffer(_WholeRolloutInOrder, RecurrentRolloutBuffer):
    """sb3-contrib's recurrent rollout buffer, sampled as one in-order batch."""


class A3CDictRolloutBuffer(_WholeRolloutInOrder, RecurrentDictRolloutBuffer):
    """sb3-contrib's recurrent rollout buffer for dict observations, sampled as one in-order batch."""


def lstm_step(lstm: nn.LSTM, x: th.Tensor, h: th.Tensor, c: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
    """One time step of ``lstm`` (its own weights) on a batch: ``(output, h, c)``.

    The same numbers as ``lstm(x[None], (h, c))``, through ``torch.lstm_cell``: ~4x faster forward
    + backward than the whole-sequence oneDNN kernel for a single step of a small batch (CPU).

    :param x: ``(batch, input_size)``
    :param h: ``(num_layers, batch, hidden_size)``, as ``c``
    """
    hs, cs = [], []
    for layer in range(lstm.num_layers):
        biases = (getattr(lstm, f"bias_ih_l{layer}"), getattr(lstm, f"bias_hh_l{layer}")) if lstm.bias else (None, None)
        x, c_layer = th.lstm_cell(
            x, (h[layer], c[layer]), getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}"), *biases
        )
        hs.append(x)
        cs.append(c_layer)
    return x, th.stack(hs), th.stack(cs)


#: ``optimizer`` name -> (class, default kwargs) given RMSProp's ``alpha`` and ``eps``
OPTIMIZERS: dict[str, Any] = {
    "adam": lambda alpha, eps: (th.optim.Adam, {"eps": 1e-5}),
    "rmsprop": lambda alpha, eps: (th.optim.RMSprop, {"alpha": alpha, "eps": 1e-5 if eps is None else eps}),
    "rmsprop_tf": lambda alpha, eps: (RMSpropTFLike, {"alpha": alpha, "eps": 0.1 if eps is None else eps, "weight_decay": 0}),
}


class A3C(AtomicSaveMixin, ClampedProgressMixin, RecurrentPPO):
    """Advantage actor-critic over many envs with a recurrent (LSTM) policy.

    Defaults are the A3C paper's Atari settings: ``n_steps=5`` (t_max), ``gamma=0.99``,
    entropy bonus 0.01, value-loss weight 0.5, gradient-norm clip 40 (as in the A3C-LSTM project),
    with the optimizer chosen by ``optimizer``:

    - ``"rmsprop"`` (default): PyTorch's RMSprop (squares start at 0, as SB3's A2C uses it), decay
      ``rms_prop_alpha``, epsilon ``rms_prop_eps`` (1e-5) outside the square root. Its first updates
      move the policy.
    - ``"adam"``: Adam, eps 1e-5 (on MinAtar Breakout and Asterix it tied with ``"rmsprop"``).
    - ``"rmsprop_tf"``: the paper's update rule (SB3's ``RMSpropTFLike``: epsilon inside the square
      root, squares start at **1**). With gradient norms well below 1 its steps are damped by the
      initial square of 1 for roughly the first thousand updates, so short runs barely learn
      (measured on MinAtar: see the a3c docs page).

    Each runs its multi-tensor kernel (fused Adam, ``foreach`` RMSprop; PyTorch's CPU default is a
    loop over tensors). ``policy_kwargs=dict(optimizer_class=..., optimizer_kwargs=...)`` overrides
    all of them.

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
    :param optimizer: ``"rmsprop"``, ``"adam"`` or ``"rmsprop_tf"`` (see above)
    :param rms_prop_eps: RMSProp epsilon (``None``: 1e-5 for ``rmsprop``, SB3 A2C's; 0.1 inside the
        square root for ``rmsprop_tf``, the paper's)
    :param rms_prop_alpha: RMSProp decay
    :param reuse_rollout_graph: back-propagate through the forward passes made while acting
        (same gradients, about one forward pass less per update; see the module docstring);
        ``False`` always stores the rollout and evaluates it again as ``RecurrentPPO`` does
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
        optimizer: str = "rmsprop",
        rms_prop_eps: float | None = None,
        rms_prop_alpha: float = 0.99,
        reuse_rollout_graph: bool = True,
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
                n_steps=n_steps,
                gamma=gamma,
                gae_lambda=gae_lambda,
                ent_coef=ent_coef,
                vf_coef=vf_coef,
                max_grad_norm=max_grad_norm,
                rms_prop_eps=rms_prop_eps,
                rms_prop_alpha=rms_prop_alpha,
                optimizer=optimizer,
                policy_kwargs=policy_kwargs,
            )
        )
        policy_kwargs = dict(policy_kwargs or {})
        if "optimizer_class" not in policy_kwargs:
            optimizer_class, defaults = OPTIMIZERS[optimizer](rms_prop_alpha, rms_prop_eps)
            policy_kwargs["optimizer_class"] = optimizer_class
            kwargs = {**defaults, **policy_kwargs.get("optimizer_kwargs", {})}
            policy_kwargs["optimizer_kwargs"] = fast_optimizer_kwargs(optimizer_class, kwargs)
        self.optimizer_name = optimizer
        self.rms_prop_eps = rms_prop_eps
        self.rms_prop_alpha = rms_prop_alpha
        self.reuse_rollout_graph = reuse_rollout_graph
        self._rollout_graph: dict[str, th.Tensor] | None = None
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
        if params.get("rms_prop_eps", 0) is None:  # None: the optimizer's own default
            params = {k: v for k, v in params.items() if k != "rms_prop_eps"}
        check_params(
            params,
            {
                "n_steps": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
                "gamma": (lambda v: 0 <= v <= 1, "in [0, 1]"),
                "gae_lambda": (lambda v: 0 <= v <= 1, "in [0, 1]"),
                "ent_coef": (lambda v: 0 <= v < float("inf"), ">= 0"),
                "vf_coef": (lambda v: 0 <= v < float("inf"), ">= 0"),
                "max_grad_norm": (lambda v: v > 0, "> 0"),
                "rms_prop_eps": (lambda v: v > 0, "> 0"),
                "rms_prop_alpha": (lambda v: 0 < v < 1, "in (0, 1)"),
                "n_envs": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
            },
        )
        check_learning_rate(params)
        check_net_arch(params.get("policy_kwargs"))
        if "optimizer" in params and not (isinstance(params["optimizer"], str) and params["optimizer"] in OPTIMIZERS):
            raise HyperparameterError("optimizer", params["optimizer"], f"one of {', '.join(map(repr, OPTIMIZERS))}")

    def _setup_model(self) -> None:
        super()._setup_model()
        old = self.rollout_buffer
        buffer_class = A3CDictRolloutBuffer if isinstance(old, RecurrentDictRolloutBuffer) else A3CRolloutBuffer
        self.rollout_buffer = buffer_class(
            self.n_steps,
            self.observation_space,
            self.action_space,
            old.hidden_state_shape,
            self.device,
            gamma=self.gamma,
            gae_lambda=self.gae_lambda,
            n_envs=self.n_envs,
        )
        # oneDNN's convolutions run ~2x faster forward + backward in NHWC at A3C's batch of n_envs (CPU)
        self._channels_last = prefers_channels_last(self.policy, self.device)
        if self._channels_last:
            self.policy.to(memory_format=th.channels_last)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_rollout_graph", "_channels_last"]

    def uses_rollout_graph(self) -> bool:
        """Whether rollouts take the fast path (module docstring): setting on and policy supported."""
        policy = self.policy
        if not getattr(self, "reuse_rollout_graph", True):
            return False
        if not isinstance(self.action_space, spaces.Discrete) or isinstance(self.observation_space, spaces.Dict):
            return False
        if not (policy.shared_lstm and policy.share_features_extractor and policy.lstm_critic is None):
            return False
        for module in policy.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                return False
            rate = getattr(module, "p", None) if isinstance(module, nn.Dropout) else getattr(module, "dropout", None)
            if isinstance(rate, float) and rate > 0:
                return False
        return True

    def collect_rollouts(
        self, env: VecEnv, callback: BaseCallback, rollout_buffer: RolloutBuffer, n_rollout_steps: int
    ) -> bool:
        """Play ``n_rollout_steps`` steps in every env; the fast path keeps the autograd graph.

        Non-finite policy outputs (NaN weights or observations) stop training with the same
        :class:`NonFiniteLossError` as a non-finite loss, not torch's distribution ``ValueError``.
        """
        try:
            return self._collect_rollouts(env, callback, rollout_buffer, n_rollout_steps)
        except (ValueError, RuntimeError) as exc:  # torch.distributions / torch.multinomial on NaN
            if "invalid values" not in str(exc) and "probability tensor contains" not in str(exc):
                raise
            raise NonFiniteLossError(
                f"a3c: the policy's outputs are not finite at timestep {self.num_timesteps} (NaN or inf in its "
                "weights or in the observations). Training stopped; checkpoints saved so far are kept. "
                "Usual causes: a learning rate that is too high, unclipped rewards, or NaN observations."
            ) from None

    def _collect_rollouts(
        self, env: VecEnv, callback: BaseCallback, rollout_buffer: RolloutBuffer, n_rollout_steps: int
    ) -> bool:
        self._rollout_graph = None
        if not self.uses_rollout_graph():
            return super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps)
        assert self._last_obs is not None, "No previous observation was provided"
        policy = self.policy
        policy.set_training_mode(False)  # no dropout / batch norm here (uses_rollout_graph), so no difference
        callback.on_rollout_start()
        buffer = rollout_buffer
        log_probs, entropies, values = [], [], []
        h, c = self._last_lstm_states.pi
        for step in range(n_rollout_steps):
            latent, h, c = self._trunk(self._last_obs, self._last_episode_starts, h, c)
            logits = policy.action_net(policy.mlp_extractor.forward_actor(latent))
            value = policy.value_net(policy.mlp_extractor.forward_critic(latent)).flatten()
            log_p = th.log_softmax(logits, dim=-1)
            # the same draw as SB3's Categorical distribution (multinomial over softmax probabilities)
            actions = th.multinomial(th.softmax(logits.detach(), dim=-1), 1, True).flatten()
            log_probs.append(log_p.gather(1, actions.unsqueeze(1)).flatten())
            entropies.append(-(log_p.exp() * log_p).sum(dim=-1))
            values.append(value)
            actions_np = actions.cpu().numpy()

            new_obs, rewards, dones, infos = env.step(actions_np)
            self.num_timesteps += env.num_envs
            callback.update_locals(locals())
            if not callback.on_step():
                self._last_lstm_states = self._states(h, c)
                return False
            self._update_info_buffer(infos, dones)

            for idx, done in enumerate(dones):  # time-limit truncation: bootstrap with V(terminal obs)
                if (
                    done
                    and infos[idx].get("terminal_observation") is not None
                    and infos[idx].get("TimeLimit.truncated", False)
                ):
                    with th.no_grad():
                        one = slice(idx, idx + 1)
                        latent, _, _ = self._trunk(
                            infos[idx]["terminal_observation"][None], np.zeros(1, dtype=bool), h[:, one], c[:, one]
                        )
                        terminal_value = policy.value_net(policy.mlp_extractor.forward_critic(latent))[0]
                    rewards[idx] += self.gamma * terminal_value.item()

            buffer.actions[step] = actions_np.reshape(-1, 1)
            buffer.rewards[step] = rewards
            buffer.episode_starts[step] = self._last_episode_starts
            buffer.values[step] = value.detach().cpu().numpy()
            buffer.log_probs[step] = log_probs[-1].detach().cpu().numpy()
            self._last_obs = new_obs
            self._last_episode_starts = dones

        self._last_lstm_states = self._states(h, c)
        with th.no_grad():
            latent, _, _ = self._trunk(new_obs, dones, *self._last_lstm_states.pi)
            last_values = policy.value_net(policy.mlp_extractor.forward_critic(latent))
        buffer.full, buffer.pos = False, 0  # no stored observations: buffer.get() refuses
        buffer.compute_returns_and_advantage(last_values=last_values, dones=dones)
        self._rollout_graph = {"log_prob": th.stack(log_probs), "entropy": th.stack(entropies), "value": th.stack(values)}
        callback.on_rollout_end()
        return True

    def _trunk(
        self, obs: np.ndarray, episode_starts: np.ndarray, h: th.Tensor, c: th.Tensor
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """Features + one LSTM step (state zeroed where an episode starts): ``(latent, h, c)``."""
        keep = th.as_tensor(1.0 - episode_starts.astype(np.float32), device=self.device).view(1, -1, 1)
        return lstm_step(self.policy.lstm_actor, self._features(obs), h * keep, c * keep)

    def _features(self, obs: np.ndarray) -> th.Tensor:
        """``policy.extract_features`` of a batch of observations, without its slow steps on CPU.

        SB3's ``obs.float() / 255`` allocates a fresh 1.8 MB tensor per step (16 Atari stacks):
        ~1 ms of page faults against ~0.1 ms for dividing the float copy in place.
        """
        policy = self.policy
        tensor = obs_as_tensor(obs, self.device)
        if not (policy.normalize_images and is_image_space(self.observation_space)):
            return policy.extract_features(tensor)
        images = tensor.to(th.float32, copy=True).div_(255.0)
        return policy.features_extractor(channels_last(images) if self._channels_last else images)

    def _states(self, h: th.Tensor, c: th.Tensor) -> RNNStates:
        """The carried LSTM state, cut from this rollout's graph (truncated back-propagation)."""
        pair = (h.detach(), c.detach())
        return RNNStates(pair, pair)

    def train(self) -> None:
        """One gradient step on the whole rollout (all envs, all steps)."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        if self._rollout_graph is not None:
            self._train_on_graph(self._rollout_graph)
            self._rollout_graph = None
            return
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
            self._step(policy_loss, value_loss, entropy_loss)

    def _train_on_graph(self, graph: dict[str, th.Tensor]) -> None:
        """The update of the fast path: the losses of ``train`` on the rollout's own forward passes."""
        buffer = self.rollout_buffer
        advantages = th.as_tensor(buffer.advantages, device=self.device)
        if self.normalize_advantage:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        returns = th.as_tensor(buffer.returns, device=self.device)
        policy_loss = -(advantages * graph["log_prob"]).mean()
        value_loss = ((returns - graph["value"]) ** 2).mean()
        entropy_loss = -graph["entropy"].mean()
        self._step(policy_loss, value_loss, entropy_loss)

    def _step(self, policy_loss: th.Tensor, value_loss: th.Tensor, entropy_loss: th.Tensor) -> None:
        """Back-propagate the A3C loss, clip, step the optimizer and log."""
        loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss
        check_finite(loss.item(), "a3c", self._n_updates, self.num_timesteps)
        self.policy.optimizer.zero_grad()
        loss.backward()
        grad_norm = clip_and_check_gradients(
            self.policy.parameters(), self.max_grad_norm, "a3c", self._n_updates, self.num_timesteps
        )
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
