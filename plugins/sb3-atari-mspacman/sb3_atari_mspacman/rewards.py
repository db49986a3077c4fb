"""The MsPacman project's MsPacman reward functions: ``fn(reward, info, state, **kwargs)``.

``state["lives"]`` holds the lives before the step (kept by the ``RewardFunction`` wrapper).
"""

from typing import Any


def _lives_lost(info: dict[str, Any], state: dict[str, Any]) -> int:
    before, now = state.get("lives"), info.get("lives")
    return max(before - now, 0) if before is not None and now is not None else 0


def life_penalty(reward: float, info: dict[str, Any], state: dict[str, Any]) -> float:
    """-1 on every step (the MsPacman project's "life_penalty")."""
    return reward - 1.0


def death_tax(reward: float, info: dict[str, Any], state: dict[str, Any], death_pen: float = 500.0) -> float:
    """Minus ``death_pen`` per life lost (the MsPacman project's "death_tax")."""
    return reward - death_pen * _lives_lost(info, state)


def ghost_bonus(reward: float, info: dict[str, Any], state: dict[str, Any], ghost_mult: float = 2.0) -> float:
    """Eaten-ghost rewards (200, 400, 800, 1600: every reward >= 200) times ``ghost_mult``."""
    return reward * ghost_mult if reward >= 200 else reward


def split(
    reward: float, info: dict[str, Any], state: dict[str, Any], ghost_mult: float = 2.0, death_pen: float = 500.0
) -> tuple[float, float]:
    """Split-Q parts: (reward + 1 after the ghost bonus, -death_pen per life lost)."""
    return ghost_bonus(reward, info, state, ghost_mult) + 1.0, -death_pen * _lives_lost(info, state)
