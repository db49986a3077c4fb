"""``split_q``: Deep Split Q-learning with prioritized replay."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch as th
from stable_baselines3.common.policies import BasePolicy
from torch.nn import functional as F

from sb3_atari_ext.buffers.split_reward import SplitRewardReplayBuffer
from sb3_atari_ext.common.q_learning import split_q_priorities, split_q_targets
from sb3_atari_ext.common.validation import HyperparameterError
from sb3_atari_ext.ddqn_prio import DDQNPrio
from sb3_atari_ext.split_q.policies import CnnPolicy, MlpPolicy, SplitQNetwork, SplitQPolicy

BOOTSTRAPS = ("per_stream", "joint")


class SplitQ(DDQNPrio):
    """
    Deep Split Q-learning: separate Q streams for rewards and punishments.

    Paper: Lin, Bouneffouf, Cecchi, "Split Q Learning: Reinforcement Learning with Two-Stream
    Rewards" (IJCAI 2019, https://arxiv.org/abs/1906.12350). The reward is split into its positive
    part r+ and its negative part r- (``info["reward_parts"]``, see the ``SplitReward`` wrapper),
    each learned by its own Q stream with its own Double-DQN target (see
    :func:`sb3_atari_ext.common.q_learning.split_q_targets`); the agent acts greedily on
    ``Q+ + Q-``. The memory weights scale how much of the accumulated Q a stream keeps, the reward
    weights scale the incoming reward: a stream's target is
    ``w r + gamma Q_target(s', a*) - (1 - lambda) Q_target(s, a)`` (zero bootstrap at episode end;
    the memory term applies at every step, as in the paper's update rule).
    With ``bootstrap="joint"`` and all four weights 1 the summed target is Double DQN on
    ``r+ + r-``. The replay priority is the sum of the per-stream absolute TD errors. Everything else is ``ddqn_prio``.

    :param reward_weight: w+, scale of the positive reward (the paper explores [0.1, 100])
    :param punish_weight: w-, scale of the negative reward
    :param reward_memory: lambda+ in [0, 1]: 1 keeps the positive stream's accumulated value
    :param punish_memory: lambda- in [0, 1]
    :param bootstrap: ``"per_stream"`` (the MsPacman project: each stream picks a' with its own online
        values) or ``"joint"`` (one a' from the summed online values)

    Other parameters: see :class:`~sb3_atari_ext.ddqn_prio.DDQNPrio` (``n_steps`` must be 1).
    """

    algo_name: ClassVar[str] = "split_q"
    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MlpPolicy, "CnnPolicy": CnnPolicy}
    policy: SplitQPolicy
    q_net: SplitQNetwork
    q_net_target: SplitQNetwork

    def __init__(
        self,
        *args: Any,
        reward_weight: float = 1.0,
        punish_weight: float = 1.0,
        reward_memory: float = 1.0,
        punish_memory: float = 1.0,
        bootstrap: str = "per_stream",
        **kwargs: Any,
    ) -> None:
        self.validate_stream_params(
            dict(
                reward_weight=reward_weight,
                punish_weight=punish_weight,
                reward_memory=reward_memory,
                punish_memory=punish_memory,
                bootstrap=bootstrap,
                n_steps=kwargs.get("n_steps", 1),
            )
        )
        self.reward_weight, self.punish_weight = reward_weight, punish_weight
        self.reward_memory, self.punish_memory = reward_memory, punish_memory
        self.bootstrap = bootstrap
        super().__init__(*args, **kwargs)

    @staticmethod
    def validate_stream_params(params: dict[str, Any]) -> None:
        """Raise :class:`HyperparameterError` for weights that are negative or not finite,
        memories outside [0, 1], an unknown bootstrap, or ``n_steps != 1``."""
        for key in ("reward_weight", "punish_weight", "reward_memory", "punish_memory"):
            if key not in params:
                continue
            value = params[key]
            memory = key.endswith("memory")
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
            if not ok or (memory and value > 1):
                raise HyperparameterError(key, value, "a finite number in [0, 1]" if memory else "a finite number >= 0")
        if params.get("bootstrap", "per_stream") not in BOOTSTRAPS:
            raise HyperparameterError("bootstrap", params["bootstrap"], f"one of {BOOTSTRAPS}")
        if params.get("n_steps", 1) != 1:
            raise HyperparameterError("n_steps", params["n_steps"], "1 (split-Q uses one-step targets per stream)")

    @classmethod
    def validate_hyperparams(cls, params: dict[str, Any]) -> None:
        """The ``ddqn_prio`` checks plus :meth:`validate_stream_params`."""
        DDQNPrio.validate_hyperparams(params)
        cls.validate_stream_params(params)

    def _setup_model(self) -> None:
        if self.replay_buffer_class is None:
            self.replay_buffer_class = SplitRewardReplayBuffer
        if not issubclass(self.replay_buffer_class, SplitRewardReplayBuffer):
            raise HyperparameterError(
                "replay_buffer_class", self.replay_buffer_class.__name__, "SplitRewardReplayBuffer (or a subclass)"
            )
        super()._setup_model()
        self._stream_weights = th.tensor([self.reward_weight, self.punish_weight], device=self.device)
        self._stream_memories = th.tensor([self.reward_memory, self.punish_memory], device=self.device)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_stream_weights", "_stream_memories"]

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        buffer, _ = self._begin_train()  # always prioritized (checked at construction)
        stats = []
        for _ in range(gradient_steps):
            data = buffer.sample(batch_size, env=self._vec_normalize_env)
            observations, next_observations = self._batch_observations(data)
            actions = data.actions.long()[:, None, :].expand(-1, 2, 1)  # the taken action, in both streams

            # Per-stream Double-DQN targets with reward weights and memories (Lin et al. 2019)
            with th.no_grad():
                current_target = self.q_net_target.streams(observations).gather(2, actions).squeeze(2)
                targets = split_q_targets(
                    self.q_net.streams(next_observations),
                    self.q_net_target.streams(next_observations),
                    current_target,
                    data.rewards,
                    data.dones,
                    self.gamma,
                    self._stream_weights,
                    self._stream_memories,
                    joint_bootstrap=self.bootstrap == "joint",
                )

            current_all = self.q_net.streams(observations)  # [batch, 2, n_actions]
            current = current_all.gather(2, actions).squeeze(2)  # [batch, 2]

            # Huber loss of both streams, weighted by the importance weights
            elementwise = F.smooth_l1_loss(current, targets, reduction="none").sum(dim=1, keepdim=True)
            loss = (data.weights * elementwise).mean()
            self._gradient_step(loss)

            # Priority: per-stream absolute TD errors, summed (they must not cancel)
            td_abs = split_q_priorities(current.detach(), targets)
            buffer.update_priorities(data.indices, td_abs.cpu().numpy())
            q = current_all.detach()
            stats.append(th.stack([loss.detach(), q[:, 0].mean(), q[:, 1].mean(), q.sum(1).max(), td_abs.mean()]))
        self._end_train(gradient_steps, ("loss", "q_reward_mean", "q_punish_mean", "q_max", "td_abs_mean"), stats)

    def learn(self, *args: Any, **kwargs: Any) -> SplitQ:
        kwargs.setdefault("tb_log_name", "SplitQ")
        return super().learn(*args, **kwargs)


__all__ = ["SplitQ"]
