"""Optuna search space of ``split_q``: ``ddqn_prio``'s (one-step, no dueling) plus the two streams."""

from __future__ import annotations

from typing import Any

from sb3_atari_ext.ddqn_prio.search import _is_image_policy, _sample_network, _sample_q_learning, convert_ddqn_prio_params


def convert_split_q_params(params: dict[str, Any]) -> dict[str, Any]:
    """Raw ``split_q`` trial parameters -> ``SplitQ`` keyword arguments."""
    params = dict(params)
    streams = {
        key: params.pop(key) for key in ("reward_weight", "punish_weight", "reward_memory", "punish_memory", "bootstrap")
    }
    params.pop("n_steps", None)
    hyperparams = convert_ddqn_prio_params({**params, "n_steps": 1})
    hyperparams["policy_kwargs"].pop("dueling")
    hyperparams.update(streams)
    return hyperparams


def sample_split_q_params(trial: Any, n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
    """Search space of ``split_q``: that of ``ddqn_prio`` (one-step, no dueling, no noisy head) plus the streams.

    - ``reward_weight``, ``punish_weight``: [0.1, 100] log (the range explored by Lin et al.)
    - ``reward_memory``, ``punish_memory``: [0.1, 1.0]
    - ``bootstrap``: {per_stream, joint}
    - image policies only: ``network`` {cnn, transformer, lstm} as for ``ddqn_prio``
    """
    params = {
        **(_sample_network(trial, noisy=False) if _is_image_policy(additional_args) else {}),
        **_sample_q_learning(trial),
        "reward_weight": trial.suggest_float("reward_weight", 0.1, 100.0, log=True),
        "punish_weight": trial.suggest_float("punish_weight", 0.1, 100.0, log=True),
        "reward_memory": trial.suggest_float("reward_memory", 0.1, 1.0),
        "punish_memory": trial.suggest_float("punish_memory", 0.1, 1.0),
        "bootstrap": trial.suggest_categorical("bootstrap", ["per_stream", "joint"]),
    }
    hyperparams = convert_split_q_params(params)
    trial.set_user_attr("gamma", hyperparams["gamma"])
    return hyperparams
