"""Optuna search space of ``ddqn_prio`` (RL Zoo's ``HYPERPARAMS_SAMPLER`` format), and the
pieces the other algorithms of its family (``split_q``, ``apex_ddqn``, ``rainbow``) build on.

A sampler is ``sampler(trial, n_actions, n_envs, additional_args) -> hyperparams``; a converter
turns a finished trial's raw ``params`` into the same hyperparameters (RL Zoo uses it to train
again from a study with ``--storage ... --trial-id``). Registered through ``register_samplers``;
nothing here imports RL Zoo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NET_ARCHS = {"small": [64, 64], "medium": [256, 256], "big": [512]}
IMAGE_NETWORKS = ("cnn", "noisy_cnn", "transformer", "lstm")


def _is_image_policy(additional_args: dict[str, Any]) -> bool:
    """The RL Zoo bridge passes the yaml's policy name; image networks only make sense for Cnn* policies."""
    return "Cnn" in str(additional_args.get("policy", ""))


def _sample_network(trial: Any, noisy: bool = True) -> dict[str, Any]:
    """Raw parameters of the image network: Nature CNN, noisy CNN head, Transformer or LSTM extractor."""
    choices = IMAGE_NETWORKS if noisy else tuple(n for n in IMAGE_NETWORKS if n != "noisy_cnn")
    network = trial.suggest_categorical("network", list(choices))
    params: dict[str, Any] = {"network": network}
    if network == "noisy_cnn":
        params["noisy_sigma"] = trial.suggest_float("noisy_sigma", 0.1, 1.0, log=True)
    elif network == "transformer":
        params["transformer_layers"] = trial.suggest_int("transformer_layers", 1, 3)
        params["transformer_heads"] = trial.suggest_categorical("transformer_heads", [2, 4, 8])
        params["transformer_width"] = trial.suggest_categorical("transformer_width", [64, 128, 256])
    elif network == "lstm":
        params["lstm_hidden_size"] = trial.suggest_categorical("lstm_hidden_size", [128, 256, 512])
    return params


def _network_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """Pop the network's raw parameters from ``params``; return the policy kwargs they mean."""
    network = params.pop("network", None)
    if network == "noisy_cnn":
        return {"noisy": True, "noisy_sigma": params.pop("noisy_sigma")}
    if network == "transformer":
        from sb3_atari_ext.torch_layers import TransformerExtractor

        layers, heads, width = (params.pop(f"transformer_{k}") for k in ("layers", "heads", "width"))
        return {
            "features_extractor_class": TransformerExtractor,
            "features_extractor_kwargs": {"n_layers": layers, "n_heads": heads, "d_model": width},
        }
    if network == "lstm":
        from sb3_atari_ext.torch_layers import LstmExtractor

        return {
            "features_extractor_class": LstmExtractor,
            "features_extractor_kwargs": {"hidden_size": params.pop("lstm_hidden_size")},
        }
    return {}


def convert_ddqn_prio_params(params: dict[str, Any]) -> dict[str, Any]:
    """Raw ``ddqn_prio`` trial parameters -> ``DDQNPrio`` keyword arguments."""
    params = dict(params)
    hyperparams: dict[str, Any] = {
        "gamma": 1 - params.pop("one_minus_gamma"),
        "batch_size": 2 ** params.pop("batch_size_pow"),
    }
    if "buffer_size_pow" in params:
        hyperparams["buffer_size"] = 2 ** params.pop("buffer_size_pow")
    net_arch = NET_ARCHS[params.pop("net_arch", "small")]
    dueling = params.pop("dueling", False)
    hyperparams["policy_kwargs"] = dict(net_arch=net_arch, dueling=dueling, **_network_kwargs(params))
    hyperparams.update(params)
    if "train_freq" in hyperparams:
        # Keep the update-to-data ratio at 1 (RL Zoo's DQN convention)
        hyperparams["gradient_steps"] = hyperparams["train_freq"]
    return hyperparams


def _sample_q_learning(trial: Any, train_freq: bool = True, exploration: bool = True) -> dict[str, Any]:
    """The search space shared by ``ddqn_prio``, ``split_q`` and ``apex_ddqn`` (raw trial parameters)."""
    return {
        "one_minus_gamma": trial.suggest_float("one_minus_gamma", 1e-4, 0.03, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 2e-3, log=True),
        "batch_size_pow": trial.suggest_int("batch_size_pow", 5, 8),
        "buffer_size_pow": trial.suggest_int("buffer_size_pow", 13, 18),
        **({"train_freq": trial.suggest_int("train_freq", 1, 10)} if train_freq else {}),
        "target_update_interval": trial.suggest_int("target_update_interval", 1, 20000, log=True),
        **(
            {
                "exploration_fraction": trial.suggest_float("exploration_fraction", 0.0, 0.5),
                "exploration_final_eps": trial.suggest_float("exploration_final_eps", 0.0, 0.2),
            }
            if exploration
            else {}
        ),
        "alpha": trial.suggest_float("alpha", 0.2, 1.0),
        "beta": trial.suggest_float("beta", 0.2, 1.0),
        "net_arch": trial.suggest_categorical("net_arch", list(NET_ARCHS)),
    }


def sample_ddqn_prio_params(trial: Any, n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
    """Search space of ``ddqn_prio``.

    - ``one_minus_gamma``: [1e-4, 0.03] log; ``learning_rate``: [1e-5, 2e-3] log
    - ``batch_size``: 2^[5, 8]; ``buffer_size``: 2^[13, 18] (8k..262k); ``train_freq``: [1, 10];
      ``target_update_interval``: [1, 20000] log
    - ``exploration_fraction``: [0, 0.5]; ``exploration_final_eps``: [0, 0.2]
    - PER: ``alpha`` [0.2, 1.0], ``beta`` (beta0, annealed to 1) [0.2, 1.0]; ``n_steps`` {1, 3, 5}
    - head: ``net_arch`` {small: 64-64, medium: 256-256, big: 512}; ``dueling`` {False, True}
    - image policies only (``Cnn*``): ``network`` {cnn: Nature CNN, noisy_cnn: noisy head with
      ``noisy_sigma`` [0.1, 1.0] log, transformer: ``transformer_layers`` [1, 3],
      ``transformer_heads`` {2, 4, 8}, ``transformer_width`` {64, 128, 256}, lstm:
      ``lstm_hidden_size`` {128, 256, 512}}
    """
    return _sample_prioritized(trial, additional_args, convert_ddqn_prio_params)


def _sample_prioritized(
    trial: Any, additional_args: dict[str, Any], convert: Callable[[dict[str, Any]], dict[str, Any]], **q_learning: bool
) -> dict[str, Any]:
    """The ``ddqn_prio`` family's space (Q-learning + n-step + dueling + image networks), converted."""
    params = {
        **_sample_q_learning(trial, **q_learning),
        "n_steps": trial.suggest_categorical("n_steps", [1, 3, 5]),
        "dueling": trial.suggest_categorical("dueling", [False, True]),
    }
    if _is_image_policy(additional_args):
        params.update(_sample_network(trial))
    hyperparams = convert(params)
    trial.set_user_attr("gamma", hyperparams["gamma"])
    trial.set_user_attr("batch_size", hyperparams["batch_size"])
    return hyperparams
