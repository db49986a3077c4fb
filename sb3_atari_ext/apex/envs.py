"""How an actor builds its envs: the same pipeline RL Zoo builds the training env with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def register_env_ids() -> None:
    """Register what a fresh actor process needs: ALE's ids and every plugin's env ids (MinAtar...)."""
    import gymnasium as gym

    try:
        import ale_py

        gym.register_envs(ale_py)
    except ImportError:  # pragma: no cover - ale-py is a dependency
        pass
    from sb3_atari_ext.plugins import get_registry

    get_registry().register_envs()


def space_signature(observation_space: Any, action_space: Any) -> tuple[Any, ...]:
    """What must agree between an actor's envs and the learner (small enough to send inline)."""
    obs_dtype = str(getattr(observation_space, "dtype", ""))
    return (
        type(observation_space).__name__, getattr(observation_space, "shape", None), obs_dtype,
        type(action_space).__name__, getattr(action_space, "n", None), getattr(action_space, "shape", None),
    )  # fmt: skip


@dataclass
class EnvFactory:
    """A picklable recipe for the vectorized training env, rebuilt inside every actor process.

    It repeats what ``rl_zoo3``'s ``ExperimentManager.create_envs`` does for a training env:
    ``make_vec_env`` (with a ``Monitor`` per env and the ``env_wrapper``), the ``vec_env_wrapper``,
    ``VecFrameStack`` and the channel-first transpose of image observations. The envs are always
    a ``DummyVecEnv`` (an actor is already a process of its own). Episode statistics travel back
    to the learner with the transitions; the learner writes the ``*.monitor.csv`` files in
    ``monitor_dir`` (actors may run on other machines, whose disks the run folder is not on).

    :param env_id: a registered gymnasium id
    :param env_kwargs: keyword arguments of ``gym.make``
    :param wrapper_class: the ``env_wrapper`` callable (e.g. ``AtariWrapper``), or ``None``
    :param vec_env_wrapper: a callable applied to the vectorized env, or ``None``
    :param frame_stack: number of frames ``VecFrameStack`` stacks, or ``None``
    :param monitor_dir: run folder for the monitor files and ``apex_status.json`` (``None``: none)
    :param monitor_kwargs: keyword arguments of ``Monitor`` (``info_keywords``)
    """

    env_id: str
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    wrapper_class: Callable[..., Any] | None = None
    vec_env_wrapper: Callable[..., Any] | None = None
    frame_stack: int | None = None
    monitor_dir: str | None = None
    monitor_kwargs: dict[str, Any] = field(default_factory=dict)

    def make(self, n_envs: int, seed: int | None = None) -> Any:
        """``n_envs`` envs in a ``DummyVecEnv``, wrapped as the training env is."""
        import gymnasium as gym
        from stable_baselines3.common.base_class import BaseAlgorithm
        from stable_baselines3.common.env_util import make_vec_env
        from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

        register_env_ids()
        spec = gym.spec(self.env_id)

        def make_env(**kwargs: Any) -> gym.Env:
            return spec.make(**kwargs)

        env = make_vec_env(
            make_env,
            n_envs=n_envs,
            seed=seed,
            env_kwargs=self.env_kwargs,
            wrapper_class=self.wrapper_class,
            vec_env_cls=DummyVecEnv,
            monitor_kwargs=self.monitor_kwargs,
        )
        if self.vec_env_wrapper is not None:
            env = self.vec_env_wrapper(env)
        if self.frame_stack:
            env = VecFrameStack(env, self.frame_stack)
        # the transpose SB3 applies to the learner's env: the actor's observations match its buffer
        return BaseAlgorithm._wrap_env(env, verbose=0, monitor_wrapper=False)
