"""Training progress that stays in [0, 1] when the last rollout ends past the budget.

SB3 counts the progress remaining as ``1 - steps / total``. An on-policy algorithm collects whole
rollouts of ``n_steps x n_envs`` steps, so when that does not divide the budget the last rollout
ends past it and the progress goes below 0; a linear schedule (RL Zoo's ``lin_<x>``) then gives
the optimizer a negative learning rate, and the last update climbs the loss instead of descending
it. Every schedule is defined on [0, 1]: the progress is clamped at 0.
"""

from __future__ import annotations


class ClampedProgressMixin:
    """Keeps ``_current_progress_remaining`` at or above 0 (put it before the SB3 base class)."""

    _current_progress_remaining: float

    def _update_current_progress_remaining(self, num_timesteps: int, total_timesteps: int) -> None:
        super()._update_current_progress_remaining(num_timesteps, total_timesteps)  # type: ignore[misc]
        self._current_progress_remaining = max(self._current_progress_remaining, 0.0)
