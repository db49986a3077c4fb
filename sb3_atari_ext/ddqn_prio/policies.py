"""Policies for ``ddqn_prio``: SB3's DQN policies plus an optional dueling head."""

from __future__ import annotations

from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import (
    BaseFeaturesExtractor,
    CombinedExtractor,
    FlattenExtractor,
    NatureCNN,
    create_mlp,
)
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork
from torch import nn


class DuelingQNetwork(QNetwork):
    """Dueling Q-network (Wang et al. 2016, Eq. 9): ``Q = V + A - mean_a A``.

    The value and advantage streams are each an MLP of ``net_arch`` on the shared features.
    Same arguments as SB3's ``QNetwork``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ``q_net`` (built by QNetwork) is the advantage stream; add the value stream.
        self.value_net = nn.Sequential(*create_mlp(self.features_dim, 1, self.net_arch, self.activation_fn))

    def forward(self, obs: PyTorchObs) -> th.Tensor:
        features = self.extract_features(obs, self.features_extractor)
        advantages = self.q_net(features)
        return self.value_net(features) + advantages - advantages.mean(dim=1, keepdim=True)


class DDQNPrioPolicy(DQNPolicy):
    """SB3's ``DQNPolicy`` with an optional dueling head.

    :param dueling: use :class:`DuelingQNetwork` for the online and target networks
    (other parameters: see ``stable_baselines3.dqn.policies.DQNPolicy``)
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        lr_schedule: Schedule,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        dueling: bool = False,
    ) -> None:
        self.dueling = dueling
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch=net_arch,
            activation_fn=activation_fn,
            features_extractor_class=features_extractor_class,
            features_extractor_kwargs=features_extractor_kwargs,
            normalize_images=normalize_images,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
        )

    def make_q_net(self) -> QNetwork:
        if not self.dueling:
            return super().make_q_net()
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return DuelingQNetwork(**net_args).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data["dueling"] = self.dueling
        return data


MlpPolicy = DDQNPrioPolicy


class CnnPolicy(DDQNPrioPolicy):
    """``DDQNPrioPolicy`` with SB3's ``NatureCNN`` extractor (Mnih et al. 2015)."""

    def __init__(self, *args: Any, features_extractor_class: type[BaseFeaturesExtractor] = NatureCNN, **kwargs: Any) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)


class MultiInputPolicy(DDQNPrioPolicy):
    """``DDQNPrioPolicy`` for dict observations (SB3's ``CombinedExtractor``)."""

    def __init__(
        self, *args: Any, features_extractor_class: type[BaseFeaturesExtractor] = CombinedExtractor, **kwargs: Any
    ) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)
