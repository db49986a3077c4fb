"""A3C's actor-critic: one trunk (features extractor + LSTM) shared by the policy and value heads.

sb3-contrib's ``RecurrentActorCriticPolicy`` supports a shared LSTM, but stops the value loss at
the LSTM (``latent_pi.detach()``); in A3C (Mnih et al. 2016, and the A3C-LSTM project's ``A3Clstm``) both
losses train the shared trunk. These classes keep sb3-contrib's LSTM-state handling (states
carried across rollouts, zeroed per env at episode starts) and change only that.
"""

from __future__ import annotations

from typing import Any

import torch as th
from sb3_contrib.common.recurrent.policies import (
    RecurrentActorCriticCnnPolicy,
    RecurrentActorCriticPolicy,
    RecurrentMultiInputActorCriticPolicy,
)
from sb3_contrib.common.recurrent.type_aliases import RNNStates


class _SharedTrunk:
    """Mixin: defaults to a shared LSTM, and lets the value loss reach it."""

    @staticmethod
    def _defaults(kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("shared_lstm", True)
        kwargs.setdefault("enable_critic_lstm", not kwargs["shared_lstm"])
        return kwargs

    def evaluate_actions(
        self, obs: th.Tensor, actions: th.Tensor, lstm_states: RNNStates, episode_starts: th.Tensor
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        if not self.shared_lstm:  # type: ignore[attr-defined]
            return super().evaluate_actions(obs, actions, lstm_states, episode_starts)  # type: ignore[misc]
        features = self.extract_features(obs)  # type: ignore[attr-defined]
        latent, _ = self._process_sequence(features, lstm_states.pi, episode_starts, self.lstm_actor)  # type: ignore[attr-defined]
        latent_pi = self.mlp_extractor.forward_actor(latent)  # type: ignore[attr-defined]
        latent_vf = self.mlp_extractor.forward_critic(latent)  # type: ignore[attr-defined]
        distribution = self._get_action_dist_from_latent(latent_pi)  # type: ignore[attr-defined]
        return self.value_net(latent_vf), distribution.log_prob(actions), distribution.entropy()  # type: ignore[attr-defined]


class A3CLstmPolicy(_SharedTrunk, RecurrentActorCriticPolicy):
    """MLP features + shared LSTM (``MlpLstmPolicy``). Arguments as sb3-contrib's policy."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **self._defaults(kwargs))


class A3CCnnLstmPolicy(_SharedTrunk, RecurrentActorCriticCnnPolicy):
    """CNN features (NatureCNN unless ``features_extractor_class`` says otherwise) + shared LSTM."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **self._defaults(kwargs))


class A3CMultiInputLstmPolicy(_SharedTrunk, RecurrentMultiInputActorCriticPolicy):
    """Dict observations + shared LSTM (``MultiInputLstmPolicy``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **self._defaults(kwargs))


MlpLstmPolicy = A3CLstmPolicy
CnnLstmPolicy = A3CCnnLstmPolicy
MultiInputLstmPolicy = A3CMultiInputLstmPolicy

__all__ = [
    "A3CCnnLstmPolicy",
    "A3CLstmPolicy",
    "A3CMultiInputLstmPolicy",
    "CnnLstmPolicy",
    "MlpLstmPolicy",
    "MultiInputLstmPolicy",
]
