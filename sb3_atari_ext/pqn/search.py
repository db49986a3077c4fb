"""Optuna search space of ``pqn``."""

from __future__ import annotations

from typing import Any


def convert_pqn_params(params: dict[str, Any]) -> dict[str, Any]:
    """Raw ``pqn`` trial parameters -> ``PQN`` keyword arguments."""
    params = dict(params)
    hyperparams: dict[str, Any] = {"gamma": 1 - params.pop("one_minus_gamma"), "n_steps": 2 ** params.pop("n_steps_pow")}
    if "n_envs_pow" in params:
        hyperparams["n_envs"] = 2 ** params.pop("n_envs_pow")
    hyperparams.update(params)
    return hyperparams


def sample_pqn_params(trial: Any, n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
    """Search space of ``pqn``.

    - ``n_steps``: 2^[3, 6] = 8..64; ``n_envs``: 2^[3, 7] = 8..128; ``n_epochs``: [1, 4];
      ``n_minibatches``: {4, 8, 16, 32}
    - ``one_minus_gamma``: [1e-4, 0.03] log; ``q_lambda``: [0, 1]
    - ``learning_rate``: [5e-5, 2e-3] log; ``max_grad_norm``: [0.5, 20] log
    - ``exploration_fraction``: [0.05, 0.5]; ``exploration_final_eps``: [0.001, 0.1] log
    """
    params: dict[str, Any] = {
        "n_steps_pow": trial.suggest_int("n_steps_pow", 3, 6),
        "n_envs_pow": trial.suggest_int("n_envs_pow", 3, 7),
        "n_epochs": trial.suggest_int("n_epochs", 1, 4),
        "n_minibatches": trial.suggest_categorical("n_minibatches", [4, 8, 16, 32]),
        "one_minus_gamma": trial.suggest_float("one_minus_gamma", 1e-4, 0.03, log=True),
        "q_lambda": trial.suggest_float("q_lambda", 0.0, 1.0),
        "learning_rate": trial.suggest_float("learning_rate", 5e-5, 2e-3, log=True),
        "max_grad_norm": trial.suggest_float("max_grad_norm", 0.5, 20.0, log=True),
        "exploration_fraction": trial.suggest_float("exploration_fraction", 0.05, 0.5),
        "exploration_final_eps": trial.suggest_float("exploration_final_eps", 0.001, 0.1, log=True),
    }
    hyperparams = convert_pqn_params(params)
    trial.set_user_attr("gamma", hyperparams["gamma"])
    return hyperparams
