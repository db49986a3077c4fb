"""Optuna search space of ``a3c``."""

from __future__ import annotations

from typing import Any


def convert_a3c_params(params: dict[str, Any]) -> dict[str, Any]:
    """Raw ``a3c`` trial parameters -> ``A3C`` keyword arguments."""
    params = dict(params)
    hyperparams: dict[str, Any] = {
        "gamma": 1 - params.pop("one_minus_gamma"),
        "n_steps": 2 ** params.pop("n_steps_pow"),
        "policy_kwargs": {"lstm_hidden_size": params.pop("lstm_hidden_size")},
    }
    if "n_envs_pow" in params:
        hyperparams["n_envs"] = 2 ** params.pop("n_envs_pow")
    hyperparams.update(params)
    return hyperparams


def sample_a3c_params(trial: Any, n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
    """Search space of ``a3c``.

    - ``n_steps`` (t_max): 2^[2, 6] = 4..64; ``one_minus_gamma``: [1e-4, 0.03] log
    - ``learning_rate``: [1e-4, 1e-2] log (the A3C paper's LogUniform range)
    - ``ent_coef``: [1e-4, 0.05] log; ``vf_coef``: [0.1, 1.0]; ``gae_lambda``: [0.9, 1.0]
    - ``max_grad_norm``: [0.5, 40] log; ``lstm_hidden_size``: {64, 128, 256, 512}
    - ``n_envs``: 2^[2, 5] = 4..32 (under RL Zoo the bridge builds that many envs for the trial)
    """
    params: dict[str, Any] = {
        "n_steps_pow": trial.suggest_int("n_steps_pow", 2, 6),
        "one_minus_gamma": trial.suggest_float("one_minus_gamma", 1e-4, 0.03, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
        "ent_coef": trial.suggest_float("ent_coef", 1e-4, 0.05, log=True),
        "vf_coef": trial.suggest_float("vf_coef", 0.1, 1.0),
        "gae_lambda": trial.suggest_float("gae_lambda", 0.9, 1.0),
        "max_grad_norm": trial.suggest_float("max_grad_norm", 0.5, 40.0, log=True),
        "lstm_hidden_size": trial.suggest_categorical("lstm_hidden_size", [64, 128, 256, 512]),
        "n_envs_pow": trial.suggest_int("n_envs_pow", 2, 5),
    }
    hyperparams = convert_a3c_params(params)
    trial.set_user_attr("gamma", hyperparams["gamma"])
    trial.set_user_attr("n_steps", hyperparams["n_steps"])
    return hyperparams
