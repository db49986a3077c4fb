"""Policies for ``rainbow``: the ``ddqn_prio`` policies with a categorical (C51) head."""

from __future__ import annotations

from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, CombinedExtractor, NatureCNN, create_mlp
from stable_baselines3.common.type_aliases import PyTorchObs
from stable_baselines3.dqn.policies import QNetwork
from torch import nn
from torch.nn import functional as F

from sb3_atari_ext.ddqn_prio.policies import DDQNPrioPolicy
from sb3_atari_ext.torch_layers import NoisyLinear

#: how much more the atom nearest 0 gets in the output bias with ``initial_distribution="zero"``
DELTA_LOGIT = 10.0
#: ``initial_distribution`` choices of the categorical head
INITIAL_DISTRIBUTIONS = ("uniform", "zero")


class DistributionalQNetwork(QNetwork):
    """Q-network whose head gives ``n_atoms`` outputs per action (the shared part of the C51 and
    quantile heads). With ``dueling`` the value stream gives ``n_atoms`` outputs and the advantage
    stream ``n_actions x n_atoms``, combined per atom (Hessel et al. 2018, Sec. 3).

    :param n_atoms: outputs per action (atoms of a support, or quantiles)
    :param v_min: smallest return of the support (used by :class:`CategoricalQNetwork` only)
    :param v_max: largest return of the support (used by :class:`CategoricalQNetwork` only)
    :param dueling: distributional dueling streams
    (other parameters: see ``stable_baselines3.dqn.policies.QNetwork``)
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
        n_atoms: int = 51,
        v_min: float = -10.0,
        v_max: float = 10.0,
        dueling: bool = False,
    ) -> None:
        super().__init__(
            observation_space, action_space, features_extractor, features_dim, net_arch, activation_fn, normalize_images
        )
        self.n_atoms, self.n_actions, self.v_min, self.v_max = n_atoms, int(action_space.n), v_min, v_max
        self.q_net = nn.Sequential(*create_mlp(features_dim, self.n_actions * n_atoms, self.net_arch, activation_fn))
        self.value_net = nn.Sequential(*create_mlp(features_dim, n_atoms, self.net_arch, activation_fn)) if dueling else None

    def head(self, obs: PyTorchObs) -> th.Tensor:
        """The head's ``n_atoms`` outputs per action, shape ``[batch, n_actions, n_atoms]`` (with
        ``dueling``: value stream + advantage stream - its mean over actions, per atom)."""
        features = self.extract_features(obs, self.features_extractor)
        outputs = self.q_net(features).view(-1, self.n_actions, self.n_atoms)
        if self.value_net is not None:
            outputs = self.value_net(features).unsqueeze(1) + outputs - outputs.mean(dim=1, keepdim=True)
        return outputs


class CategoricalQNetwork(DistributionalQNetwork):
    """Q-network whose head gives, for each action, a distribution over ``n_atoms`` fixed returns
    ``z_j = v_min + j (v_max - v_min) / (n_atoms - 1)`` (Bellemare et al. 2017, C51).

    ``forward`` returns the expected values ``Q(s, a) = sum_j z_j p_j(s, a)``, so SB3's ``predict``
    and epsilon-greedy acting work unchanged; ``log_probs`` returns the log-distribution; the
    dueling streams are combined per atom before the softmax. (parameters: see
    :class:`DistributionalQNetwork`)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer("support", th.linspace(self.v_min, self.v_max, self.n_atoms))

    def log_probs(self, obs: PyTorchObs) -> th.Tensor:
        """``log p_j(s, a)``, shape ``[batch, n_actions, n_atoms]``."""
        return F.log_softmax(self.head(obs), dim=2)

    def forward(self, obs: PyTorchObs) -> th.Tensor:
        return (self.log_probs(obs).exp() * self.support).sum(dim=2)

    @th.no_grad()
    def start_at_zero(self, logit: float = DELTA_LOGIT) -> None:
        """Make every first distribution sit on the atom nearest 0 (``logit`` above the other atoms
        in the output bias; with ``logit`` 10 that atom holds 99.8% of the mass on 51 atoms) instead
        of spreading evenly over the support. The bias is the value stream's with ``dueling``, else
        each action's block of the head's. Call after the layers are made noisy."""
        bias = th.zeros(self.n_atoms, device=self.support.device)
        bias[int(th.argmin(self.support.abs()))] = logit
        stream = self.value_net if self.value_net is not None else self.q_net
        last = [m for m in stream.modules() if isinstance(m, nn.Linear | NoisyLinear)][-1]
        target = last.bias_mu if isinstance(last, NoisyLinear) else last.bias
        target.copy_(bias.repeat(target.numel() // self.n_atoms))


class QuantileQNetwork(DistributionalQNetwork):
    """Q-network whose head gives, for each action, ``n_atoms`` quantiles of the return at the
    midpoints ``tau_i = (2i + 1) / (2 n_atoms)`` (QR-DQN, Dabney et al. 2018); ``forward`` returns
    their mean. It has no support (``v_min`` / ``v_max`` are not used) and no ``log_probs``.
    (parameters: see :class:`DistributionalQNetwork`)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer("taus", (th.arange(self.n_atoms, dtype=th.float32) + 0.5) / self.n_atoms)

    def quantiles(self, obs: PyTorchObs) -> th.Tensor:
        """``theta_i(s, a)``, shape ``[batch, n_actions, n_atoms]``."""
        return self.head(obs)

    def forward(self, obs: PyTorchObs) -> th.Tensor:
        return self.head(obs).mean(dim=2)


#: the distributional heads of ``rainbow`` (``policy_kwargs=dict(distribution=...)``)
DISTRIBUTIONS: dict[str, type[DistributionalQNetwork]] = {"categorical": CategoricalQNetwork, "quantile": QuantileQNetwork}


class RainbowPolicy(DDQNPrioPolicy):
    """``DDQNPrioPolicy`` with a distributional head.

    :param n_atoms: number of atoms (51 in C51 and Rainbow), or of quantiles with ``distribution="quantile"``
    :param v_min: smallest return of the support (categorical head only)
    :param v_max: largest return of the support (categorical head only)
    :param distribution: ``"categorical"`` (C51, :class:`CategoricalQNetwork`: Rainbow's head) or
        ``"quantile"`` (QR-DQN's, :class:`QuantileQNetwork`)
    :param initial_distribution: the categorical head's first distributions: ``"uniform"`` (an
        ordinary initialization: about even over the support) or ``"zero"`` (all but 0.2% of the
        mass on the atom nearest 0, as a scalar head starts near Q = 0 and QR-DQN's quantiles near
        0; :meth:`CategoricalQNetwork.start_at_zero`)
    (other parameters: see :class:`~sb3_atari_ext.ddqn_prio.policies.DDQNPrioPolicy`)
    """

    def __init__(
        self,
        *args: Any,
        n_atoms: int = 51,
        v_min: float = -10.0,
        v_max: float = 10.0,
        distribution: str = "categorical",
        initial_distribution: str = "uniform",
        **kwargs: Any,
    ) -> None:
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {sorted(DISTRIBUTIONS)}, got {distribution!r}")
        if initial_distribution not in INITIAL_DISTRIBUTIONS:
            choices = list(INITIAL_DISTRIBUTIONS)
            raise ValueError(f"initial_distribution must be one of {choices}, got {initial_distribution!r}")
        if initial_distribution != "uniform" and distribution != "categorical":
            raise ValueError(f"initial_distribution={initial_distribution!r} needs the categorical head, not {distribution!r}")
        self.n_atoms, self.v_min, self.v_max, self.distribution = n_atoms, v_min, v_max, distribution
        self.initial_distribution = initial_distribution
        super().__init__(*args, **kwargs)

    def make_q_net(self) -> QNetwork:
        q_net = super().make_q_net()
        if self.initial_distribution == "zero" and isinstance(q_net, CategoricalQNetwork):
            q_net.start_at_zero()
        return q_net

    def _build_q_net(self, net_args: dict[str, Any]) -> QNetwork:
        return DISTRIBUTIONS[self.distribution](
            **net_args, n_atoms=self.n_atoms, v_min=self.v_min, v_max=self.v_max, dueling=self.dueling
        )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            n_atoms=self.n_atoms,
            v_min=self.v_min,
            v_max=self.v_max,
            distribution=self.distribution,
            initial_distribution=self.initial_distribution,
        )
        return data


MlpPolicy = RainbowPolicy


class CnnPolicy(RainbowPolicy):
    """``RainbowPolicy`` on SB3's ``NatureCNN`` (Mnih et al. 2015), as in Hessel et al. 2018."""

    def __init__(self, *args: Any, features_extractor_class: type[BaseFeaturesExtractor] = NatureCNN, **kwargs: Any) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)


class MultiInputPolicy(RainbowPolicy):
    """``RainbowPolicy`` for dict observations (SB3's ``CombinedExtractor``)."""

    def __init__(
        self, *args: Any, features_extractor_class: type[BaseFeaturesExtractor] = CombinedExtractor, **kwargs: Any
    ) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)
