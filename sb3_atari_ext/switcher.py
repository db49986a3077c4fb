"""``ModelSwitcher``: play with model A until a condition holds, then with model B.

The MsPacman project's unfinished "combine models" idea. Conditions are registered by plugins through
``register_switch_conditions`` (built in: ``lives_below``, ``reward_at_least``). The switcher is
policy-like (``predict`` as SB3 models), so SB3's ``evaluate_policy`` plays and evaluates it:
pass ``callback=switcher.callback`` so it sees each step's rewards and infos.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sb3_atari_ext.plugins import get_registry


def lives_below(reward: float, info: dict[str, Any], state: dict[str, Any], n: int = 2) -> bool:
    """True once the game reports fewer than ``n`` lives left."""
    lives = info.get("lives")
    return lives is not None and lives < n


def reward_at_least(reward: float, info: dict[str, Any], state: dict[str, Any], threshold: float = 200.0) -> bool:
    """True once a single step paid at least ``threshold`` (stays true for the episode)."""
    state["seen"] = state.get("seen", False) or reward >= threshold
    return state["seen"]


class ModelSwitcher:
    """Acts with ``models[0]`` until ``condition`` is true for an env, then with ``models[1]``.

    :param models: two trained SB3 models with the same observation and action spaces
    :param condition: a registered condition name (``"lives_below"``) or a callable
        ``(reward, info, state, **kwargs) -> bool``
    :param condition_kwargs: keyword arguments for the condition
    :param n_envs: number of environments it will play
    :param switch_back: return to model A when the condition turns false again
    """

    def __init__(
        self,
        models: Sequence[Any],
        condition: str | Callable[..., bool],
        condition_kwargs: dict[str, Any] | None = None,
        n_envs: int = 1,
        switch_back: bool = False,
    ) -> None:
        if len(models) != 2:
            raise ValueError(f"ModelSwitcher needs exactly two models (A, then B), got {len(models)}")
        if models[0].action_space != models[1].action_space or models[0].observation_space != models[1].observation_space:
            raise ValueError("ModelSwitcher: both models must have the same observation and action spaces")
        if isinstance(condition, str):
            condition = get_registry().get("switch_conditions", condition)
        self.models, self.condition = list(models), condition
        self.condition_kwargs = condition_kwargs or {}
        self.switch_back = switch_back
        self.observation_space, self.action_space = models[0].observation_space, models[0].action_space
        self.active = np.zeros(n_envs, dtype=np.int64)
        self.states: list[dict[str, Any]] = [{} for _ in range(n_envs)]
        self.steps_per_model = np.zeros(2, dtype=np.int64)

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, Any]:
        """Actions of each env's active model (SB3's ``predict`` signature)."""
        obs = np.asarray(observation)
        if obs.shape == self.observation_space.shape:  # a single observation
            obs = obs[None]
        if episode_start is not None:
            for env in np.flatnonzero(episode_start):
                self.active[env], self.states[env] = 0, {}
        actions = None
        for index, model in enumerate(self.models):
            rows = np.flatnonzero(self.active[: len(obs)] == index)
            if rows.size == 0:
                continue
            chosen, _ = model.predict(obs[rows], deterministic=deterministic)
            if actions is None:
                actions = np.zeros((len(obs), *np.shape(chosen)[1:]), dtype=np.asarray(chosen).dtype)
            actions[rows] = chosen
            self.steps_per_model[index] += rows.size
        return actions, state

    def observe(self, rewards: Sequence[float], infos: Sequence[dict[str, Any]], dones: Sequence[bool]) -> None:
        """Update which model each env uses from the step's rewards and infos."""
        for env, (reward, info, done) in enumerate(zip(rewards, infos, dones, strict=False)):
            if done:
                self.active[env], self.states[env] = 0, {}
                continue
            hit = bool(self.condition(float(reward), info, self.states[env], **self.condition_kwargs))
            if hit:
                self.active[env] = 1
            elif self.switch_back:
                self.active[env] = 0

    def callback(self, local_vars: dict[str, Any], _globals: dict[str, Any]) -> None:
        """Per-step callback for SB3's ``evaluate_policy`` (it passes its locals)."""
        self.observe(local_vars["rewards"], local_vars["infos"], local_vars["dones"])
