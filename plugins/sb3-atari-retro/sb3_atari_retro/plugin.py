"""Hook implementations of the ``retro`` plugin (entry point in ``pyproject.toml``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sb3_atari_ext import hookimpl

HYPERPARAMS = Path(__file__).resolve().parent / "hyperparams"


@hookimpl
def register_envs(register: Callable[..., None]) -> None:
    from sb3_atari_retro.envs import RETRO_NAMESPACE, retro_games

    for game in retro_games():
        register(f"{RETRO_NAMESPACE}/{game}", "sb3_atari_retro.envs:make_retro", kwargs={"game": game})


@hookimpl
def register_wrappers(register: Callable[..., None]) -> None:
    from sb3_atari_retro.wrappers import Discretizer, RetroPreprocessing

    register("RetroPreprocessing", RetroPreprocessing)
    register("Discretizer", Discretizer)


@hookimpl
def register_hyperparams(register: Callable[..., None]) -> None:
    register("a3c", HYPERPARAMS / "a3c.yml")
