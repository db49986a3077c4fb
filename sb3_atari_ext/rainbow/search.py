"""Optuna search space of ``rainbow``."""

from __future__ import annotations

from typing import Any

from sb3_atari_ext.ddqn_prio.search import _sample_q_learning, convert_ddqn_prio_params


def convert_rainbow_params(params: dict[str, Any]) -> dict[str, Any]:
    """Raw ``rainbow`` trial parameters -> ``Rainbow`` keyword arguments (dueling and noisy nets
    always on, as in Rainbow; the support symmetric around 0)."""
    params = dict(params)
    support = {"n_atoms": params.pop("n_atoms"), "v_max": params.pop("v_max")}
    sigma = params.pop("noisy_sigma")
    hyperparams = convert_ddqn_prio_params({**params, "dueling": True})
    hyperparams["policy_kwargs"].update(noisy=True, noisy_sigma=sigma)
    hyperparams.update(n_atoms=support["n_atoms"], v_min=-support["v_max"], v_max=support["v_max"])
    return hyperparams


def sample_rainbow_params(trial: Any, n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
    """Search space of ``rainbow``: ``ddqn_prio``'s Q-learning and PER settings without the epsilon
    schedule (noisy nets explore), plus

    - ``n_steps`` {1, 3, 5}; ``noisy_sigma`` [0.1, 1.0] log
    - the support: ``n_atoms`` {21, 51, 101}, ``v_max`` {10, 100} (``v_min = -v_max``)
    """
    params = {
        **_sample_q_learning(trial, exploration=False),
        "n_steps": trial.suggest_categorical("n_steps", [1, 3, 5]),
        "noisy_sigma": trial.suggest_float("noisy_sigma", 0.1, 1.0, log=True),
        "n_atoms": trial.suggest_categorical("n_atoms", [21, 51, 101]),
        "v_max": trial.suggest_categorical("v_max", [10.0, 100.0]),
    }
    hyperparams = convert_rainbow_params(params)
    trial.set_user_attr("gamma", hyperparams["gamma"])
    trial.set_user_attr("batch_size", hyperparams["batch_size"])
    return hyperparams
