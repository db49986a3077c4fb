"""Hook implementations of the MinAtar plugin (entry point in ``pyproject.toml``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sb3_atari_ext import hookimpl

HYPERPARAMS = Path(__file__).resolve().parent / "hyperparams"
ALGOS = ("dqn", "qrdqn", "ddqn_prio", "rainbow", "split_q", "a3c", "a2c", "ppo", "ppo_lstm", "apex_ddqn", "pqn")


@hookimpl
def register_envs(register: Callable[..., None]) -> None:
    from sb3_atari_minatar.envs import ENTRY_POINT, env_ids

    for env_id, spec in env_ids().items():
        register(env_id, ENTRY_POINT, **spec)


@hookimpl
def register_feature_extractors(register: Callable[..., None]) -> None:
    from sb3_atari_minatar.torch_layers import MinAtarCNN

    register("MinAtarCNN", MinAtarCNN)


@hookimpl
def register_vec_envs(register: Callable[..., None]) -> None:
    from sb3_atari_minatar.vec_env import make_minatar_vector_env

    register("minatar_vector", make_minatar_vector_env)


@hookimpl
def register_hyperparams(register: Callable[..., None]) -> None:
    for algo in ALGOS:
        register(algo, HYPERPARAMS / f"{algo}.yml")
