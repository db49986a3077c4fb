"""Policies for ``split_q``: one Q stream for rewards and one for punishments."""

from __future__ import annotations

from typing import Any

import torch as th
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, NatureCNN, create_mlp
from stable_baselines3.common.type_aliases import PyTorchObs
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork
from torch import nn

from sb3_atari_ext.common.torch_utils import fast_optimizer_kwargs


class SplitQNetwork(QNetwork):
    """Two Q streams (reward, punishment); ``forward`` returns their sum, used to act.

    :param punish_features_extractor: a second extractor for the punishment stream, or ``None``
        to share the reward stream's extractor (two heads on one trunk)
    (other parameters: see SB3's ``QNetwork``)
    """

    def __init__(self, *args: Any, punish_features_extractor: BaseFeaturesExtractor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ``q_net`` (built by QNetwork) is the reward head; add the punishment head.
        self.punish_net = nn.Sequential(
            *create_mlp(self.features_dim, int(self.action_space.n), self.net_arch, self.activation_fn)
        )
        self.punish_features_extractor = punish_features_extractor

    def streams(self, obs: PyTorchObs) -> th.Tensor:
        """Q-values of both streams, ``[batch, 2, n_actions]`` (0: reward, 1: punishment)."""
        features = self.extract_features(obs, self.features_extractor)
        if self.punish_features_extractor is None:
            punish_features = features
        else:
            punish_features = self.extract_features(obs, self.punish_features_extractor)
        return th.stack([self.q_net(features), self.punish_net(punish_features)], dim=1)

    def forward(self, obs: PyTorchObs) -> th.Tensor:
        return self.streams(obs).sum(dim=1)


class SplitQPolicy(DQNPolicy):
    """SB3's ``DQNPolicy`` with a :class:`SplitQNetwork`.

    :param share_features_extractor: one trunk with two heads (True) or two separate networks
    (other parameters: see ``stable_baselines3.dqn.policies.DQNPolicy``)
    """

    def __init__(self, *args: Any, share_features_extractor: bool = True, **kwargs: Any) -> None:
        self.share_features_extractor = share_features_extractor
        optimizer_kwargs = fast_optimizer_kwargs(
            kwargs.get("optimizer_class", th.optim.Adam), kwargs.pop("optimizer_kwargs", None)
        )
        super().__init__(*args, optimizer_kwargs=optimizer_kwargs, **kwargs)

    def make_q_net(self) -> SplitQNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        punish = None if self.share_features_extractor else self.make_features_extractor()
        return SplitQNetwork(**net_args, punish_features_extractor=punish).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data["share_features_extractor"] = self.share_features_extractor
        return data


MlpPolicy = SplitQPolicy


class CnnPolicy(SplitQPolicy):
    """``SplitQPolicy`` with SB3's ``NatureCNN`` extractor."""

    def __init__(self, *args: Any, features_extractor_class: type[BaseFeaturesExtractor] = NatureCNN, **kwargs: Any) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)


__all__ = ["CnnPolicy", "MlpPolicy", "SplitQNetwork", "SplitQPolicy"]
