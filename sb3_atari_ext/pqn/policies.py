"""The Q-network of ``pqn``: any SB3 features extractor and MLP head, with LayerNorm after every
hidden layer (Gallici et al. 2024, Sec. 4: normalization is what keeps TD stable without a target
network or a replay buffer)."""

from __future__ import annotations

from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.torch_layers import (
    BaseFeaturesExtractor,
    CombinedExtractor,
    FlattenExtractor,
    NatureCNN,
)
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from stable_baselines3.dqn.policies import QNetwork
from torch import nn

from sb3_atari_ext.common.torch_utils import fast_optimizer_kwargs

ACTIVATIONS = (nn.ReLU, nn.Tanh, nn.ELU, nn.GELU, nn.SiLU, nn.LeakyReLU)


def add_layer_norm(module: nn.Module) -> nn.Module:
    """Insert a normalization between every hidden ``Linear`` / ``Conv2d`` layer and its activation,
    in every ``nn.Sequential`` inside ``module`` (the output layer, with no activation after it, is
    left alone): ``LayerNorm`` for linear layers, ``GroupNorm(1, channels)`` (a layer norm over
    channels and pixels) for convolutions. Returns ``module``."""
    for name, child in module.named_children():
        if isinstance(child, nn.Sequential):
            layers = list(child)
            rebuilt: list[nn.Module] = []
            for i, layer in enumerate(layers):
                rebuilt.append(layer)
                followed_by_activation = i + 1 < len(layers) and isinstance(layers[i + 1], ACTIVATIONS)
                if isinstance(layer, nn.Linear) and followed_by_activation:
                    rebuilt.append(nn.LayerNorm(layer.out_features))
                elif isinstance(layer, nn.Conv2d) and followed_by_activation:
                    rebuilt.append(nn.GroupNorm(1, layer.out_channels))
            setattr(module, name, nn.Sequential(*rebuilt))
        else:
            add_layer_norm(child)
    return module


class PQNPolicy(BasePolicy):
    """One Q-network (no target network): features extractor, MLP head of ``net_arch``, LayerNorm.

    :param net_arch: hidden layers of the head (default ``[64, 64]``, or none on an image
        extractor such as ``NatureCNN``, whose own hidden layer is normalized)
    :param layer_norm: insert the normalizations (``False``: the plain network, for ablations)
    :param optimizer_class: RAdam by default (as CleanRL's and purejaxql's PQN), with
        ``foreach=True`` unless ``optimizer_kwargs`` chooses (PyTorch's CPU default loops over tensors)
    (other parameters: see ``stable_baselines3.dqn.policies.DQNPolicy``)
    """

    q_net: QNetwork

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
        layer_norm: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.RAdam,
        optimizer_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            observation_space,
            action_space,
            features_extractor_class,
            features_extractor_kwargs,
            optimizer_class=optimizer_class,
            optimizer_kwargs=fast_optimizer_kwargs(optimizer_class, optimizer_kwargs),
            normalize_images=normalize_images,
        )
        if net_arch is None:
            net_arch = [] if features_extractor_class is NatureCNN else [64, 64]
        self.net_arch, self.activation_fn, self.layer_norm = net_arch, activation_fn, layer_norm
        extractor = self.make_features_extractor()
        self.q_net = QNetwork(
            observation_space, action_space, extractor, extractor.features_dim, net_arch, activation_fn, normalize_images
        )
        if layer_norm:
            add_layer_norm(self.q_net)
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)

    def forward(self, obs: PyTorchObs, deterministic: bool = True) -> th.Tensor:
        return self._predict(obs, deterministic=deterministic)

    def _predict(self, obs: PyTorchObs, deterministic: bool = True) -> th.Tensor:
        return self.q_net(obs).argmax(dim=1).reshape(-1)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            net_arch=self.net_arch,
            activation_fn=self.activation_fn,
            features_extractor_class=self.features_extractor_class,
            features_extractor_kwargs=self.features_extractor_kwargs,
            normalize_images=self.normalize_images,
            layer_norm=self.layer_norm,
            optimizer_class=self.optimizer_class,
            optimizer_kwargs=self.optimizer_kwargs,
        )
        return data

    def set_training_mode(self, mode: bool) -> None:
        self.q_net.set_training_mode(mode)
        self.training = mode


MlpPolicy = PQNPolicy


class CnnPolicy(PQNPolicy):
    """``PQNPolicy`` on SB3's ``NatureCNN`` (each conv and the 512 hidden layer normalized)."""

    def __init__(self, *args: Any, features_extractor_class: type[BaseFeaturesExtractor] = NatureCNN, **kwargs: Any) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)


class MultiInputPolicy(PQNPolicy):
    """``PQNPolicy`` for dict observations (SB3's ``CombinedExtractor``)."""

    def __init__(
        self, *args: Any, features_extractor_class: type[BaseFeaturesExtractor] = CombinedExtractor, **kwargs: Any
    ) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)
