"""Retro games as gymnasium ids ``retro/<Game>-<System>-v0``.

Every stable-retro game whose ROM is installed is registered (stable-retro ships the ROM of
``Airstriker-Genesis-v0``; ``python -m stable_retro.import <folder>`` adds ROMs you own). The
env is created headless (``render_mode=None``) unless a render mode is asked for.
"""

from __future__ import annotations

from typing import Any

RETRO_NAMESPACE = "retro"


def retro_games() -> list[str]:
    """stable-retro games whose ROM is installed (e.g. ``["Airstriker-Genesis-v0"]``)."""
    import stable_retro

    games = []
    for game in stable_retro.data.list_games(stable_retro.data.Integrations.ALL):
        try:
            stable_retro.data.get_romfile_path(game, stable_retro.data.Integrations.ALL)
        except (FileNotFoundError, ValueError):
            continue
        games.append(game)
    return games


def make_retro(game: str, state: str | None = None, render_mode: str | None = None, **kwargs: Any) -> Any:
    """``stable_retro.make`` for one game; raises a clear error when its ROM is missing.

    stable-retro allows one emulator per process: run several envs with ``SubprocVecEnv``
    (``vec_env: subproc`` in this plugin's yaml).
    """
    import stable_retro

    try:
        stable_retro.data.get_romfile_path(game, stable_retro.data.Integrations.ALL)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the ROM of {game!r} is not installed; import ROMs you own with `python -m stable_retro.import <folder>`"
        ) from None
    if state is not None:
        kwargs["state"] = state
    return stable_retro.make(game=game, render_mode=render_mode, **kwargs)
