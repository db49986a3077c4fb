"""Policies for ``ddqn_prio``: SB3's DQN policies plus optional dueling and noisy heads, and the
aliases of our feature extractors (``NoisyCnnPolicy``, ``TransformerPolicy``, ``LstmPolicy``)."""

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

from sb3_atari_ext.common.torch_utils import fast_optimizer_kwargs
from sb3_atari_ext.torch_layers import LstmExtractor, NoisyLinear, NoisyNatureCNN, TransformerExtractor


def make_noisy(head: nn.Module, sigma_init: float) -> None:
    """Replace every ``nn.Linear`` inside ``head`` by a :class:`NoisyLinear` of the same shape."""
    for name, child in head.named_children():
        if isinstance(child, nn.Linear):
            setattr(head, name, NoisyLinear(child.in_features, child.out_features, sigma_init))
        else:
            make_noisy(child, sigma_init)


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
    """SB3's ``DQNPolicy`` with optional dueling and noisy heads.

    :param dueling: use :class:`DuelingQNetwork` for the online and target networks
    :param noisy: make the Q head's linear layers :class:`NoisyLinear` (Fortunato et al. 2018);
        ``ddqn_prio`` then resamples the noise at every step and needs no epsilon exploration
    :param noisy_sigma: initial noise scale of the noisy layers
    :param noisy_extractor: with ``noisy``, also make every linear layer of the features extractor
        noisy (the hidden layer of the Nature CNN or the MinAtar network): Rainbow's "every fully
        connected layer" (Hessel et al. 2018, Sec. 3)
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
        noisy: bool = False,
        noisy_sigma: float = 0.5,
        noisy_extractor: bool = False,
    ) -> None:
        self.dueling, self.noisy, self.noisy_sigma, self.noisy_extractor = dueling, noisy, noisy_sigma, noisy_extractor
        optimizer_kwargs = fast_optimizer_kwargs(optimizer_class, optimizer_kwargs)
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
        q_net = self._build_q_net(self._update_features_extractor(self.net_args, features_extractor=None))
        if self.noisy:
            make_noisy(q_net.q_net, self.noisy_sigma)
            if self.dueling:
                make_noisy(q_net.value_net, self.noisy_sigma)
            if self.noisy_extractor:
                make_noisy(q_net.features_extractor, self.noisy_sigma)
        return q_net.to(self.device)

    def _build_q_net(self, net_args: dict[str, Any]) -> QNetwork:
        """The network before any layer is made noisy (subclasses change the head)."""
        return DuelingQNetwork(**net_args) if self.dueling else QNetwork(**net_args)

    def set_training_mode(self, mode: bool) -> None:
        """SB3's, done only when the mode changes: SB3 calls it before every action and every
        update, and ``nn.Module.train`` walks every submodule through ``Module.__setattr__`` (about
        9% of a MinAtar training step when done every time)."""
        if self.__dict__.get("_mode_set") is mode and self.q_net.training is mode and self.training is mode:
            return
        super().set_training_mode(mode)
        self.__dict__["_mode_set"] = mode  # a plain attribute (not a module, parameter or buffer)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            dueling=self.dueling, noisy=self.noisy, noisy_sigma=self.noisy_sigma, noisy_extractor=self.noisy_extractor
        )
        return data


MlpPolicy = DDQNPrioPolicy


class CnnPolicy(DDQNPrioPolicy):
    """``DDQNPrioPolicy`` with SB3's ``NatureCNN`` extractor (Mnih et al. 2015)."""

    def __init__(self, *args: Any, features_extractor_class: type[BaseFeaturesExtractor] = NatureCNN, **kwargs: Any) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)


class _ExtractorPolicy(DDQNPrioPolicy):
    """A ``DDQNPrioPolicy`` whose default extractor is ``default_extractor`` (and no extra MLP)."""

    default_extractor: type[BaseFeaturesExtractor]
    default_kwargs: dict[str, Any] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("features_extractor_class", self.default_extractor)
        kwargs.setdefault("net_arch", [])
        for key, value in self.default_kwargs.items():
            kwargs.setdefault(key, value)
        super().__init__(*args, **kwargs)


class NoisyCnnPolicy(_ExtractorPolicy):
    """Nature CNN with a noisy last layer and a noisy Q head: exploration by parameter noise."""

    default_extractor = NoisyNatureCNN
    default_kwargs = {"noisy": True}


class TransformerPolicy(_ExtractorPolicy):
    """Q-network on a :class:`~sb3_atari_ext.torch_layers.TransformerExtractor`."""

    default_extractor = TransformerExtractor


class LstmPolicy(_ExtractorPolicy):
    """Q-network on a :class:`~sb3_atari_ext.torch_layers.LstmExtractor`."""

    default_extractor = LstmExtractor


class MultiInputPolicy(DDQNPrioPolicy):
    """``DDQNPrioPolicy`` for dict observations (SB3's ``CombinedExtractor``)."""

    def __init__(
        self, *args: Any, features_extractor_class: type[BaseFeaturesExtractor] = CombinedExtractor, **kwargs: Any
    ) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)
