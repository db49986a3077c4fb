"""The MinAtar env ids this plugin registers with gymnasium.

``MinAtar/<Game>-v0`` plays with all six actions, ``-v1`` with the game's minimal action set, as
the ``minatar`` package names them. Observations are ``(10, 10, C)`` boolean arrays, channel
last. MinAtar never truncates an episode; the registration adds a time limit of
``MAX_EPISODE_STEPS`` agent steps so that a deterministic evaluation can never run forever
(an agent that scores needs far fewer steps: no training episode we have seen came near it).
"""

from __future__ import annotations

GAMES = ("asterix", "breakout", "freeway", "seaquest", "space_invaders")
ENTRY_POINT = "minatar.gym:BaseEnv"
MAX_EPISODE_STEPS = 100_000


def env_ids() -> dict[str, dict]:
    """``{env_id: gymnasium.register keyword arguments}`` for every game and both action sets."""
    ids = {}
    for game in GAMES:
        name = game.title().replace("_", "")
        for version, minimal in (("v0", False), ("v1", True)):
            ids[f"MinAtar/{name}-{version}"] = {
                "kwargs": {"game": game, "use_minimal_action_set": minimal},
                "max_episode_steps": MAX_EPISODE_STEPS,
            }
    return ids
