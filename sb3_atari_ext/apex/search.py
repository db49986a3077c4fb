"""Optuna search space of ``apex_ddqn``: ``ddqn_prio``'s learner settings, paced by actors."""

from __future__ import annotations

from typing import Any

from sb3_atari_ext.ddqn_prio.search import _sample_prioritized, convert_ddqn_prio_params


def convert_apex_ddqn_params(params: dict[str, Any]) -> dict[str, Any]:
    """Raw ``apex_ddqn`` trial parameters -> ``ApexDDQN`` keyword arguments: ``ddqn_prio``'s, with
    ``max_replay_ratio`` = ``batch_size`` (one sample per inserted transition, the update-to-data
    ratio of the ``ddqn_prio`` search) in place of ``train_freq``/``gradient_steps``."""
    hyperparams = convert_ddqn_prio_params({k: v for k, v in params.items() if k not in ("train_freq", "gradient_steps")})
    hyperparams["max_replay_ratio"] = float(hyperparams["batch_size"])
    return hyperparams


def sample_apex_ddqn_params(trial: Any, n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
    """Search space of ``apex_ddqn``: ``ddqn_prio``'s learner settings without ``train_freq`` (the
    learner is paced by ``max_replay_ratio`` = ``batch_size``) and without the epsilon schedule
    (actors have Ape-X's fixed epsilons); ``n_actors`` stays the user's choice."""
    return _sample_prioritized(trial, additional_args, convert_apex_ddqn_params, train_freq=False, exploration=False)
