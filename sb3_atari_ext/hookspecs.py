"""The plugin contract of sb3-atari-ext.

A plugin is a module (or object) whose functions are marked with :data:`hookimpl` and which is
listed under the entry-point group ``sb3_atari_ext`` of its distribution::

    [project.entry-points.sb3_atari_ext]
    my_plugin = "my_package.plugin"

Every hook receives a ``register`` callback, so one plugin may contribute any number of entries.
The host checks each entry (base class, callable, file exists), refuses a name that another
plugin already registered and remembers which distribution registered what
(``sb3-atari plugins`` lists it). Hook names and signatures are stable: third-party plugins are
written against them. Importing this module is cheap (no torch, no SB3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # pragma: no cover - types only
    from collections.abc import Callable

PROJECT_NAME = "sb3_atari_ext"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class BackendUnavailable(RuntimeError):
    """A vectorized-env backend (``register_vec_envs``) cannot build the requested env; the message
    says why, and RL Zoo falls back to ``SubprocVecEnv``."""


@hookspec
def register_algorithms(register: Callable[..., None]) -> None:
    """Register RL algorithms: ``register(name, algorithm_class)``.

    Called once when the registry is built (for example when ``rl_zoo3.utils`` is imported).
    ``algorithm_class`` must subclass ``stable_baselines3.common.base_class.BaseAlgorithm``;
    ``name`` is what users pass to ``--algo`` (lower case, like RL Zoo's ``dqn``).
    """


@hookspec
def register_policies(register: Callable[..., None]) -> None:
    """Register policy aliases: ``register(algo_name, alias, policy_class)``.

    The alias becomes usable as ``policy: <alias>`` in RL Zoo yaml and as ``Algo("<alias>", env)``
    from Python, exactly like SB3's ``"CnnPolicy"``. ``policy_class`` must subclass
    ``stable_baselines3.common.policies.BasePolicy``. The algorithm may come from another plugin.
    """


@hookspec
def register_feature_extractors(register: Callable[..., None]) -> None:
    """Register feature extractors: ``register(name, extractor_class)``.

    ``extractor_class`` must subclass ``BaseFeaturesExtractor``. The short name can be used in
    yaml ``policy_kwargs`` strings, e.g. ``"dict(features_extractor_class=NoisyNatureCNN)"``.
    """


@hookspec
def register_replay_buffers(register: Callable[..., None]) -> None:
    """Register replay buffers: ``register(name, buffer_class)``.

    ``buffer_class`` must subclass SB3's ``ReplayBuffer``. The short name can be used in yaml as
    ``replay_buffer_class: <name>``.
    """


@hookspec
def register_wrappers(register: Callable[..., None]) -> None:
    """Register environment wrappers: ``register(name, wrapper_class)``.

    ``wrapper_class`` must be a ``gymnasium.Wrapper`` subclass (or a callable taking an env and
    returning an env). The short name can be used in yaml as ``env_wrapper: <name>`` or
    ``env_wrapper: [{<name>: {kwarg: value}}]``. A wrapper with required arguments gives example
    values for the plugin test kit: ``register(name, cls, check_kwargs={"actions": ["NOOP"]})``.
    """


@hookspec
def register_reward_functions(register: Callable[..., None]) -> None:
    """Register named reward functions: ``register(name, function)``.

    Names are dotted by convention (``"mspacman.ghost_bonus"``). ``function`` must be callable;
    reward-shaping wrappers look functions up by name.
    """


@hookspec
def register_switch_conditions(register: Callable[..., None]) -> None:
    """Register conditions for the model switcher: ``register(name, condition)``.

    ``condition(reward, info, state, **kwargs) -> bool`` is called after every step of an env
    with that step's reward and info and a dict kept for the episode; ``True`` switches that
    env to the second model (``sb3_atari_ext.switcher.ModelSwitcher``).
    """


@hookspec
def register_envs(register: Callable[..., None]) -> None:
    """Register environments with gymnasium: ``register(env_id, entry_point, **spec_kwargs)``.

    ``entry_point`` is a ``"module:callable"`` string (so ``SubprocVecEnv`` workers can import it)
    or a callable; ``spec_kwargs`` go to ``gymnasium.register`` (``kwargs``,
    ``max_episode_steps``, ...). The ids are registered when the plugins load, which happens
    before RL Zoo checks ``--env``: ``rl_zoo3.train --env <env_id>`` then works with no
    ``--gym-packages``. An id that gymnasium already knows from elsewhere is an error.
    """


@hookspec
def register_vec_envs(register: Callable[..., None]) -> None:
    """Register vectorized-env backends: ``register(name, factory)``.

    ``factory(env_id, n_envs, seed, frame_stack, env_wrapper, env_kwargs, monitor_dir)`` returns
    a ``VecEnv`` producing what RL Zoo's pipeline (``make_vec_env`` + ``env_wrapper`` +
    ``VecFrameStack``) would, or raises :class:`BackendUnavailable` (defined in this module) with
    the reason; RL Zoo then falls back to ``SubprocVecEnv`` and prints the reason. Users pick a
    backend with ``vec_env: <name>`` in yaml, ``-params vec_env:'<name>'`` or
    ``sb3-atari train --vec-env <name>``.
    """


@hookspec
def register_hyperparams(register: Callable[..., None]) -> None:
    """Register an algorithm's default RL Zoo hyperparameter file: ``register(algo_name, path)``.

    ``path`` is a yaml file in RL Zoo format (keys: env ids, ``atari``, ``default``). RL Zoo's
    ``train`` uses it for ``--algo <algo_name>`` when no ``--conf-file`` is given. Several
    plugins may register files for one algorithm (RL Zoo's own included, e.g. ``ppo``): their
    entries are merged, and one key (env id) in two files is an error naming both.
    """


@hookspec
def register_samplers(register: Callable[..., None]) -> None:
    """Register an Optuna sampler: ``register(algo_name, sampler, converter=None)``.

    ``sampler(trial, n_actions, n_envs, additional_args) -> dict`` returns ready-to-use
    hyperparameters (RL Zoo's ``HYPERPARAMS_SAMPLER`` contract); ``converter(params) -> dict``
    turns a finished trial's raw ``params`` into hyperparameters (``HYPERPARAMS_CONVERTER``).
    ``--optimize`` then works for ``--algo <algo_name>``.
    """
