"""Contract checks for a plugin's components: for our own tests and for third-party authors.

:func:`check_plugin` runs the checks on everything a plugin registered and returns a report; with
``raise_errors=True`` (the default) a failure raises :class:`PluginCheckError` naming each failing
component and what failed. In a plugin's test suite, one test per component::

    import pytest
    from sb3_atari_ext.testing import check_component, plugin_components

    @pytest.mark.parametrize("kind, name", plugin_components("my_plugin"))
    def test_component(kind, name):
        check_component("my_plugin", kind, name)

What is checked (small envs, a few dozen steps each, CPU):

- **algorithms**: trains a few steps on a small env that fits its policies (CartPole for ``Mlp*``
  policies, a tiny image env or one of the plugin's own envs for ``Cnn*``), saves, loads, and the
  loaded model predicts the same actions;
- **policies**: the same, with the registered alias as ``policy``;
- **replay_buffers**: trains SB3's ``DQN`` with it as ``replay_buffer_class``;
- **feature_extractors**: builds a ``DQN`` policy around it and predicts;
- **wrappers**: wraps an env (CartPole, Atari, or the plugin's own envs), resets and steps it;
- **envs**: ``gymnasium.make``, reset, a few random steps;
- **samplers**: samples with Optuna, converts, and the algorithm accepts the hyperparameters;
- **hyperparams**: the yaml loads, is a mapping of env ids to settings, and every key is an
  argument of the algorithm or one RL Zoo reads itself.

Reward functions, switch conditions and vec-env backends are checked to be callable when they are
registered.
"""

from __future__ import annotations

import contextlib
import inspect
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sb3_atari_ext.plugins import get_registry

#: The kinds :func:`check_plugin` checks, in order.
CHECKED_KINDS = (
    "algorithms", "policies", "replay_buffers", "feature_extractors", "wrappers", "reward_functions", "envs", "samplers",
    "hyperparams",
)  # fmt: skip
_SINGULAR = {"policies": "policy", "hyperparams": "hyperparameter file"}

#: Keys of an RL Zoo yaml entry that RL Zoo (or our bridge) reads itself, not the algorithm.
ZOO_KEYS = frozenset(
    {"n_timesteps", "policy", "env_wrapper", "frame_stack", "n_envs", "normalize", "normalize_kwargs", "callback",
     "vec_env_wrapper", "vec_env", "env_kwargs"}  # fmt: skip
)

STEPS = 64  # agent steps of every training check


class PluginCheckError(AssertionError):
    """One or more components of a plugin failed their contract check."""


@dataclass
class ComponentCheck:
    """The result of one component's check."""

    plugin: str
    kind: str
    name: str
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None

    def __str__(self) -> str:
        status = "ok  " if self.ok else "FAIL"
        kind = _SINGULAR.get(self.kind, self.kind[:-1].replace("_", " "))
        return f"{status} {kind} {self.name!r} ({self.seconds:.1f}s)" + (
            f": {self.error}" if self.error else ""
        )


def plugin_components(plugin: str) -> list[tuple[str, str]]:
    """``[(kind, name), ...]`` of everything ``plugin`` registered that :func:`check_plugin` checks."""
    registry = get_registry()
    registry.register_envs()  # plugin env ids, as RL Zoo sees them
    if plugin not in registry.plugins:
        known = ", ".join(sorted(registry.plugins)) or "none"
        raise ValueError(f"no plugin named {plugin!r} is installed; installed: {known}")
    found = []
    for kind in CHECKED_KINDS:
        for entry in registry.entries(kind).values():
            if entry.plugin == plugin and (kind, entry.name) not in found:
                found.append((kind, entry.name))
    return found


def check_plugin(plugin: str, raise_errors: bool = True) -> list[ComponentCheck]:
    """Check every component ``plugin`` registered.

    :param plugin: the plugin's name, as ``sb3-atari plugins`` lists it (its entry-point name)
    :param raise_errors: raise :class:`PluginCheckError` listing the failures (else only return them)
    :return: one :class:`ComponentCheck` per component
    """
    results = [_run(plugin, kind, name) for kind, name in plugin_components(plugin)]
    failed = [r for r in results if not r.ok]
    if failed and raise_errors:
        head = f"{len(failed)} of {len(results)} components of plugin {plugin!r} failed:"
        raise PluginCheckError("\n".join([head, *map(str, failed)]))
    return results


def check_component(plugin: str, kind: str, name: str) -> ComponentCheck:
    """Check one component (what the pytest helper runs); raises :class:`PluginCheckError`."""
    result = _run(plugin, kind, name)
    if not result.ok:
        raise PluginCheckError(str(result))
    return result


def _run(plugin: str, kind: str, name: str) -> ComponentCheck:
    start = time.perf_counter()
    try:
        get_registry().register_envs()
        _CHECKS[kind](plugin, name)
        error = None
    except Exception as exc:  # noqa: BLE001 - the report names any failure
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        error = f"{_line(exc)} (at {Path(frame.filename).name}:{frame.lineno})"
    return ComponentCheck(plugin, kind, name, error, time.perf_counter() - start)


# -- envs that fit -----------------------------------------------------------------------------
class TinyImageEnv(gym.Env):
    """A 36x36x1 ``uint8`` image env with 4 actions and 16-step episodes (the smallest image the
    Nature CNN accepts; reward 1 for the action ``t % 4``), built by :func:`make_env` as
    ``"tiny-image"``."""

    observation_space = spaces.Box(0, 255, (36, 36, 1), np.uint8)
    action_space = spaces.Discrete(4)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.integers(0, 256, (36, 36, 1), dtype=np.uint8), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self.t += 1
        obs = self.np_random.integers(0, 256, (36, 36, 1), dtype=np.uint8)
        return obs, float(int(action) == self.t % 4), False, self.t >= 16, {}


def make_env(env_id: str) -> gym.Env:
    """A gymnasium env: ``"tiny-image"`` (:class:`TinyImageEnv`) or a registered id (Atari ids
    register ``ale_py`` first)."""
    if env_id == "tiny-image":
        return TinyImageEnv()
    if "NoFrameskip" in env_id or env_id.startswith("ALE/"):
        import ale_py

        gym.register_envs(ale_py)
    return gym.make(env_id)


def _plugin_envs(plugin: str) -> list[str]:
    return [e.name for e in get_registry().entries("envs").values() if e.plugin == plugin]


def _candidates(plugin: str, image: bool) -> list[str]:
    own = _plugin_envs(plugin)[:1]
    return [*own, "tiny-image"] if image else ["CartPole-v1", *own]


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _first_that_works(candidates: list[str], attempt: Callable[[str], None]) -> None:
    errors = []
    for env_id in candidates:
        try:
            attempt(env_id)
            return
        except Exception as exc:  # noqa: BLE001 - try the next env; report all if none fits
            errors.append(f"{env_id}: {_line(exc)}")
    raise RuntimeError("fits none of the envs tried (" + "; ".join(errors) + ")")


# -- checks ------------------------------------------------------------------------------------
def accepted_arguments(cls: type) -> set[str]:
    """Keyword arguments ``cls(...)`` accepts, following ``**kwargs`` up to the base classes."""
    accepted: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(vars(klass)["__init__"]).parameters
        accepted |= {n for n, p in parameters.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)} - {"self"}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            break
    return accepted


def _small_kwargs(cls: type) -> dict[str, Any]:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    accepted = accepted_arguments(cls)
    small: dict[str, Any] = {"learning_starts": 16, "buffer_size": 256, "batch_size": 8, "seed": 0, "device": "cpu"}
    if issubclass(cls, OnPolicyAlgorithm):
        small.update(n_steps=8, n_epochs=1)
    return {k: v for k, v in small.items() if k in accepted}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _train_save_load(cls: type, policy: str, env_id: str) -> None:
    with _quiet():
        model = cls(policy, make_env(env_id), **_small_kwargs(cls))
        model.learn(STEPS)
        with tempfile.TemporaryDirectory() as folder:
            model.save(Path(folder) / "model.zip")
            loaded = cls.load(Path(folder) / "model.zip", device="cpu")
    space = model.observation_space
    space.seed(1)
    obs = np.stack([space.sample() for _ in range(5)])
    recurrent = "state" in inspect.signature(model.policy.predict).parameters and hasattr(model, "_last_lstm_states")
    kwargs: dict[str, Any] = {"episode_start": np.ones(5, dtype=bool)} if recurrent else {}
    before = model.predict(obs, deterministic=True, **kwargs)[0]
    after = loaded.predict(obs, deterministic=True, **kwargs)[0]
    if not np.array_equal(before, after):
        raise AssertionError(f"the loaded model predicts {after.tolist()}, the saved one {before.tolist()}")


def _check_algorithm(plugin: str, name: str) -> None:
    cls = get_registry().names("algorithms")[name]
    aliases = list(getattr(cls, "policy_aliases", {}))
    mlp = [p for p in ("MlpPolicy", "MlpLstmPolicy") if p in aliases]
    if mlp:
        _first_that_works(_candidates(plugin, image=False), lambda env_id: _train_save_load(cls, mlp[0], env_id))
        return
    cnn = [p for p in ("CnnPolicy", "CnnLstmPolicy") if p in aliases] or aliases[:1]
    if not cnn:
        raise AssertionError("the algorithm has no policy aliases (policy_aliases is empty)")
    _first_that_works(_candidates(plugin, image=True), lambda env_id: _train_save_load(cls, cnn[0], env_id))


def _check_policy(plugin: str, name: str) -> None:
    algo, alias = name.split(":", 1)
    cls = get_registry().names("algorithms").get(algo)
    if cls is None:
        from rl_zoo3.utils import ALGOS

        cls = ALGOS[algo]
    if alias not in cls.policy_aliases:
        raise AssertionError(f"{alias!r} is not among {cls.__name__}.policy_aliases after registration")
    own = _plugin_envs(plugin)[:1]
    envs = ["CartPole-v1", *own, "tiny-image"] if alias.startswith("Mlp") else [*own, "tiny-image", "CartPole-v1"]
    _first_that_works(envs, lambda env_id: _train_save_load(cls, alias, env_id))


def _check_buffer(plugin: str, name: str) -> None:
    from stable_baselines3 import DQN

    buffer = get_registry().names("replay_buffers")[name]

    def attempt(env_id: str) -> None:
        policy = "CnnPolicy" if env_id == "tiny-image" else "MlpPolicy"
        with _quiet():
            model = DQN(policy, make_env(env_id), replay_buffer_class=buffer, **_small_kwargs(DQN))
            model.learn(STEPS)
        if not isinstance(model.replay_buffer, buffer) or model.replay_buffer.size() == 0:
            raise AssertionError("DQN did not store its transitions in the buffer")

    _first_that_works(["CartPole-v1", "tiny-image"], attempt)


def _check_extractor(plugin: str, name: str) -> None:
    from stable_baselines3 import DQN

    extractor = get_registry().names("feature_extractors")[name]

    def attempt(env_id: str) -> None:
        env = make_env(env_id)
        image = len(env.observation_space.shape or ()) == 3
        with _quiet():
            model = DQN("CnnPolicy" if image else "MlpPolicy", env, policy_kwargs={"features_extractor_class": extractor},
                        **_small_kwargs(DQN))  # fmt: skip
        env.observation_space.seed(0)
        action, _ = model.predict(env.observation_space.sample(), deterministic=True)
        if not env.action_space.contains(action.item() if hasattr(action, "item") else action):
            raise AssertionError(f"the policy predicted {action!r}, not an action of {env.action_space}")

    _first_that_works([*_plugin_envs(plugin)[:1], "tiny-image", "CartPole-v1"], attempt)


def _check_wrapper(plugin: str, name: str) -> None:
    entry = next(e for e in get_registry().entries("wrappers").values() if e.name == name)
    wrapper, kwargs = entry.value, dict(entry.extra.get("check_kwargs") or {})
    required = [
        n for i, (n, p) in enumerate(inspect.signature(wrapper).parameters.items())
        if i > 0 and p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in kwargs
    ]  # fmt: skip
    if required:
        raise AssertionError(f"needs {', '.join(required)}: register it with check_kwargs={{...}} giving example values")

    def attempt(env_id: str) -> None:
        with _quiet():
            env = wrapper(make_env(env_id), **kwargs)
            env.reset(seed=0)
            env.action_space.seed(0)
            for _ in range(3):
                env.step(env.action_space.sample())
            env.close()

    candidates = [*_plugin_envs(plugin)[:1], "CartPole-v1", "SpaceInvadersNoFrameskip-v4", "MsPacmanNoFrameskip-v4"]
    _first_that_works(candidates, attempt)


def _check_reward_function(plugin: str, name: str) -> None:
    from sb3_atari_ext.wrappers.rewards import RewardFunction

    def attempt(env_id: str) -> None:
        with _quiet():
            env = RewardFunction(make_env(env_id), reward_fn=name)
            env.reset(seed=0)
            env.action_space.seed(0)
            for _ in range(5):
                _, reward, *_ = env.step(env.action_space.sample())
                if not np.isfinite(reward):
                    raise AssertionError(f"the function returned the reward {reward!r}")
            env.close()

    _first_that_works([*_plugin_envs(plugin)[:1], "MsPacmanNoFrameskip-v4", "CartPole-v1"], attempt)


def _check_env(plugin: str, name: str) -> None:
    env = make_env(name)
    obs, _ = env.reset(seed=0)
    if not env.observation_space.contains(obs):
        raise AssertionError(f"reset() returned an observation outside {env.observation_space}")
    env.action_space.seed(0)
    for _ in range(5):
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            obs, _ = env.reset()
    env.close()


def _algorithm_class(algo: str) -> type:
    cls = get_registry().names("algorithms").get(algo)
    if cls is None:
        from rl_zoo3.utils import ALGOS  # a plugin may ship settings for RL Zoo's algorithms

        if algo not in ALGOS:
            raise AssertionError(f"{algo!r} is neither a registered algorithm nor one of RL Zoo's")
        cls = ALGOS[algo]
    return cls


def _check_sampler(plugin: str, name: str) -> None:
    import optuna

    entry = next(e for e in get_registry().entries("samplers").values() if e.plugin == plugin and e.name == name)
    cls = _algorithm_class(name)
    policy = next((p for p in ("MlpPolicy", "MlpLstmPolicy") if p in cls.policy_aliases), "MlpPolicy")
    converter = entry.extra.get("converter") or dict
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for seed in range(3):
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
        trial = study.ask()
        args = {"policy": policy, "env_id": "CartPole-v1", "using_her_replay_buffer": False}
        sampled = dict(entry.value(trial, 2, 1, args))
        converted = dict(converter(dict(trial.params)))  # what `sb3-atari study` writes from a stored trial
        for params in (sampled, converted):
            params.pop("n_envs", None)  # RL Zoo's env count, not an argument of the algorithm
            with _quiet():
                cls(policy, make_env("CartPole-v1"), device="cpu", **params)


def _check_hyperparams(plugin: str, name: str) -> None:
    import yaml

    cls = _algorithm_class(name)
    accepted = accepted_arguments(cls) | ZOO_KEYS
    for (algo, owner), entry in get_registry().entries("hyperparams").items():
        if algo != name or owner != plugin:
            continue
        data = yaml.safe_load(Path(entry.value).read_text())
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise AssertionError(f"{entry.value} must be a mapping of env ids to settings")
        for env_id, settings in data.items():
            unknown = sorted(set(settings) - accepted)
            if unknown:
                raise AssertionError(f"{entry.value}, {env_id}: unknown keys {unknown} (not arguments of {cls.__name__})")


_CHECKS: dict[str, Callable[[str, str], None]] = {
    "algorithms": _check_algorithm,
    "policies": _check_policy,
    "replay_buffers": _check_buffer,
    "feature_extractors": _check_extractor,
    "wrappers": _check_wrapper,
    "reward_functions": _check_reward_function,
    "envs": _check_env,
    "samplers": _check_sampler,
    "hyperparams": _check_hyperparams,
}
