"""Patches applied to RL Zoo modules so they see every plugin's components.

RL Zoo (pinned: rl-zoo3 2.9.2) keeps its registries in module globals, not an API, so each patch
changes them **in place** and is tested against the pinned version:

- ``rl_zoo3.utils``: plugin algorithms are added to ``ALGOS`` (so ``--algo`` accepts them),
  ``get_class_by_name``/``get_wrapper_class`` also resolve registered short names
  (``env_wrapper: DeathPenalty``), and the names are visible to ``-params`` values.
- ``rl_zoo3.hyperparams_opt``: plugin samplers and converters go into ``HYPERPARAMS_SAMPLER``
  and ``HYPERPARAMS_CONVERTER`` (``--optimize``).
- ``rl_zoo3.exp_manager``: registered short names become visible to the ``eval`` of
  ``policy_kwargs`` / ``replay_buffer_class`` / ``replay_buffer_kwargs``; ``ExperimentManager``
  uses the plugin's default yaml when no ``--conf-file`` is given, checks hyperparameters before
  anything is built (``ValueError`` naming key, value and file), stops cleanly on SIGTERM/Ctrl-C
  (the model is then saved as usual) and turns a non-finite loss into a clear error message.
  Vectorized-env backends registered with ``register_vec_envs`` (``envpool``) become choices of
  ``--vec-env`` and values of a ``vec_env`` yaml key; ``create_envs`` builds them, and falls
  back to ``SubprocVecEnv`` with the reason printed when the backend cannot build the env.
- plugin env ids (``register_envs``) are registered with gymnasium when ``rl_zoo3.utils`` loads,
  before RL Zoo checks ``--env``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import shutil
import signal
import sys
import threading
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

from sb3_atari_ext.plugins import PluginConflictError, get_registry

PATCHED = "_sb3_atari_ext_patched"


def _short_names() -> dict[str, Any]:
    """Registered short names usable in RL Zoo yaml, plus our algorithm class names."""
    registry = get_registry()
    names: dict[str, Any] = {}
    for kind in ("replay_buffers", "feature_extractors", "wrappers", "reward_functions"):
        names.update(registry.names(kind))
    for cls in registry.names("algorithms").values():
        names.setdefault(cls.__name__, cls)
    return names


def patch_utils(utils: ModuleType) -> None:
    """Add plugin algorithms to ``ALGOS`` and short names to ``get_class_by_name``."""
    registry = get_registry()
    for name, cls in registry.algorithms().items():
        existing = utils.ALGOS.get(name)
        if existing is not None and existing is not cls:
            message = f"sb3_atari_ext: algorithm {name!r} is built into RL Zoo; the plugin's version is ignored"
            warnings.warn(message, stacklevel=2)
            continue
        utils.ALGOS[name] = cls

    utils.StoreDict = _checked_store_dict(utils.StoreDict)
    utils.get_model_path = _checked_model_path(utils.get_model_path)
    # ``-params key:value`` is eval-ed in this module's globals (StoreDict): short names work there too.
    for name, obj in _short_names().items():
        utils.__dict__.setdefault(name, obj)

    original = utils.get_class_by_name

    @functools.wraps(original)
    def get_class_by_name(name: str) -> Any:
        registered = _short_names().get(name)
        return registered if registered is not None else original(name)

    utils.get_class_by_name = get_class_by_name

    original_wrapper = utils.get_wrapper_class

    @functools.wraps(original_wrapper)
    def get_wrapper_class(hyperparams: dict[str, Any], key: str = "env_wrapper") -> Any:
        return original_wrapper(_resolve_wrappers(hyperparams, key), key)

    utils.get_wrapper_class = get_wrapper_class
    registry.register_envs()


def _checked_store_dict(store_dict: type) -> type:
    """RL Zoo's ``StoreDict`` (``-params``, ``--env-kwargs``...) with one error line for a bad item
    (no ``:``, or a value that is not a Python expression) instead of a ``SyntaxError`` traceback."""
    if getattr(store_dict, "_sb3_atari_checked", False):
        return store_dict

    class CheckedStoreDict(store_dict):  # type: ignore[misc, valid-type]
        _sb3_atari_checked = True

        def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
            from sb3_atari_ext.zoo.errors import fail

            for item in values:
                key, colon, value = item.partition(":")
                if not key or not colon or not value:
                    fail(f"{option_string} {item!r}: expected KEY:VALUE, e.g. learning_rate:0.001")
            try:
                super().__call__(parser, namespace, values, option_string)
            except Exception as exc:  # noqa: BLE001 - eval of user text: any error is the user's
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                fail(f"{option_string} {' '.join(values)!r}: a value is not a Python expression ({reason}); quote strings")

    CheckedStoreDict.__name__ = CheckedStoreDict.__qualname__ = "StoreDict"
    return CheckedStoreDict


def _checked_model_path(original: Any) -> Any:
    """``get_model_path`` of ``enjoy``/``record_video`` that refuses a truncated or corrupt model zip
    with one error line (RL Zoo's own "not found" errors are kept)."""
    if getattr(original, "_sb3_atari_checked", False):
        return original

    @functools.wraps(original)
    def get_model_path(*args: Any, **kwargs: Any) -> Any:
        from sb3_atari_ext.analysis.runs import check_model_file
        from sb3_atari_ext.zoo.errors import fail

        result = original(*args, **kwargs)
        try:
            check_model_file(result[1])
        except ValueError as exc:
            fail(str(exc))
        return result

    get_model_path._sb3_atari_checked = True  # type: ignore[attr-defined]
    return get_model_path


def _resolve_wrappers(hyperparams: dict[str, Any], key: str) -> dict[str, Any]:
    """Replace registered short wrapper names (``ScaleReward`` or ``{ScaleReward: {...}}``) by classes."""
    value = hyperparams.get(key)
    if value is None:
        return hyperparams
    names = _short_names()

    def resolve(item: Any) -> Any:
        if isinstance(item, str):
            return names.get(item, item)
        if isinstance(item, dict) and len(item) == 1:
            ((name, kwargs),) = item.items()
            return {names.get(name, name) if isinstance(name, str) else name: kwargs}
        return item

    resolved = [resolve(v) for v in value] if isinstance(value, list) else resolve(value)
    return {**hyperparams, key: resolved}


def _identity(params: dict[str, Any]) -> dict[str, Any]:
    return dict(params)


def patch_hyperparams_opt(module: ModuleType) -> None:
    """Add plugin samplers and converters to RL Zoo's Optuna tables."""
    from sb3_atari_ext.zoo.optimize import with_context

    for (algo,), entry in get_registry().entries("samplers").items():
        module.HYPERPARAMS_SAMPLER[algo] = with_context(entry.value)
        module.HYPERPARAMS_CONVERTER[algo] = entry.extra.get("converter") or _identity


def patch_exp_manager(module: ModuleType) -> None:
    """Short names for yaml ``eval``, default yaml, early validation, clean stops."""
    from rl_zoo3 import utils

    for name, obj in _short_names().items():
        module.__dict__.setdefault(name, obj)
    module.get_class_by_name = utils.get_class_by_name
    module.get_wrapper_class = utils.get_wrapper_class
    manager = module.ExperimentManager
    manager.__init__ = _wrap_init(manager.__init__)
    manager._preprocess_hyperparams = _wrap_preprocess(manager._preprocess_hyperparams)
    manager.learn = _wrap_learn(manager.learn)
    manager.setup_experiment = _wrap_setup(manager.setup_experiment)
    manager.save_trained_model = _wrap_save(manager.save_trained_model)
    manager.create_envs = _wrap_create_envs(manager.create_envs)
    _extend_vec_env_choices()
    from sb3_atari_ext.zoo import optimize

    optimize.patch(module)  # storages with heartbeats, metrics.yml per trial, sampler context


BUILTIN_VEC_ENVS = ("dummy", "subproc")


def _vec_env_backends() -> list[str]:
    return [*BUILTIN_VEC_ENVS, *sorted(get_registry().names("vec_envs"))]


def _extend_vec_env_choices() -> None:
    """Add the registered backends to the ``--vec-env`` choices of ``rl_zoo3.train``'s parser.

    The parser is built inside ``rl_zoo3.train.train()`` with ``choices=["dummy", "subproc"]``;
    only an ``add_argument`` call with exactly that option and those choices is changed.
    """
    import argparse

    original = argparse.ArgumentParser.add_argument
    if getattr(original, PATCHED, False):
        return

    @functools.wraps(original)
    def add_argument(self: Any, *args: Any, **kwargs: Any) -> Any:
        if "--vec-env" in args and list(kwargs.get("choices") or ()) == list(BUILTIN_VEC_ENVS):
            kwargs["choices"] = _vec_env_backends()
        return original(self, *args, **kwargs)

    setattr(add_argument, PATCHED, True)
    argparse.ArgumentParser.add_argument = add_argument


def _wrapper_spec(value: Any) -> list[tuple[str, dict[str, Any]]]:
    """RL Zoo's ``env_wrapper`` yaml value as ``[(name, kwargs), ...]``."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    spec = []
    for item in items:
        if isinstance(item, dict):
            ((name, kwargs),) = item.items()
        else:
            name, kwargs = item, {}
        spec.append((name if isinstance(name, str) else f"{name.__module__}.{name.__qualname__}", dict(kwargs or {})))
    return spec


def _select_vec_env(self: Any, hyperparams: dict[str, Any]) -> None:
    """``--vec-env`` (when not the default ``dummy``) wins over the yaml's ``vec_env`` key."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    from_yaml = hyperparams.pop("vec_env", None)
    cli = getattr(self, "_sb3_atari_vec_env", "dummy")
    backend = cli if cli != "dummy" or from_yaml is None else from_yaml
    if backend not in _vec_env_backends():
        raise ValueError(f"unknown vec_env {backend!r} in {self.config}; known: {', '.join(_vec_env_backends())}")
    self._sb3_atari_vec_env = backend
    self._sb3_atari_env_wrapper = _wrapper_spec(hyperparams.get("env_wrapper"))
    if backend in BUILTIN_VEC_ENVS and self.default_vec_env_cls is None:
        self.vec_env_class = {"dummy": DummyVecEnv, "subproc": SubprocVecEnv}[backend]


def _wrap_create_envs(original: Any) -> Any:
    @functools.wraps(original)
    def create_envs(self: Any, n_envs: int, eval_env: bool = False, no_log: bool = False) -> Any:
        from stable_baselines3.common.vec_env import SubprocVecEnv

        from sb3_atari_ext.wrappers.envpool import BackendUnavailable
        from sb3_atari_ext.zoo.optimize import trial_n_envs

        n_envs = trial_n_envs(self, n_envs, eval_env, no_log)
        backend = getattr(self, "_sb3_atari_vec_env", "dummy")
        if backend in BUILTIN_VEC_ENVS:
            return original(self, n_envs, eval_env, no_log)
        factory = get_registry().get("vec_envs", backend)
        try:
            env = factory(
                self.env_name.gym_id,
                n_envs,
                self.seed,
                self.frame_stack,
                self._sb3_atari_env_wrapper,
                self.eval_env_kwargs if eval_env else self.env_kwargs,
                None if eval_env or no_log else self.save_path,
            )
        except BackendUnavailable as exc:
            print(f"sb3_atari_ext: vec_env {backend!r} unavailable: {exc}. Falling back to SubprocVecEnv.")
            self._sb3_atari_vec_env = "subproc"
            self.vec_env_class = SubprocVecEnv
            return original(self, n_envs, eval_env, no_log)
        if self.verbose > 0 and not eval_env:
            print(f"sb3_atari_ext: {n_envs} envs on the {backend} backend ({type(env).__name__})")
        if self.vec_env_wrapper is not None:
            env = self.vec_env_wrapper(env)
        return self._maybe_normalize(env, eval_env)

    return create_envs


def merge_hyperparams(files: list[Path], algo: str) -> Path:
    """One RL Zoo yaml with the entries of ``files`` (a key in two files is an error)."""
    import tempfile

    import yaml

    merged: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    for path in files:
        entries = yaml.safe_load(Path(path).read_text()) or {}
        for key, value in entries.items():
            if key in merged:
                raise PluginConflictError(
                    f"hyperparameters of {algo!r} for {key!r} are defined twice: in {origin[key]} and {path}"
                )
            merged[key], origin[key] = value, Path(path)
    out = Path(tempfile.mkdtemp(prefix="sb3_atari_ext_")) / f"{algo}.yml"
    out.write_text(yaml.safe_dump(merged))
    print(f"sb3_atari_ext: default hyperparameters of {algo} merged from {', '.join(str(f) for f in files)}")
    return out


def _wrap_init(original: Any) -> Any:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        from sb3_atari_ext.zoo.errors import user_errors

        with user_errors(self):
            _init(self, *args, **kwargs)

    def _init(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        vec_env = bound.arguments.get("vec_env_type", "dummy")
        if vec_env not in BUILTIN_VEC_ENVS:  # a registered backend: RL Zoo's own table only knows these
            if vec_env not in _vec_env_backends():
                raise ValueError(f"unknown --vec-env {vec_env!r}; known: {', '.join(_vec_env_backends())}")
            bound.arguments["vec_env_type"] = "dummy"
        original(*bound.args, **bound.kwargs)
        self._sb3_atari_vec_env = vec_env
        if bound.arguments.get("config") is not None:
            return
        files = get_registry().hyperparams_files(self.algo)
        if not files:
            return
        zoo_default = Path(self.config)  # RL Zoo's own file for its built-in algorithms (e.g. ppo)
        sources = [zoo_default, *files] if zoo_default.is_file() else files
        if len(sources) == 1:
            self.config = str(sources[0])
        else:
            self.config = str(merge_hyperparams(sources, self.algo))
            self._sb3_atari_merged_config = self.config
            self._sb3_atari_config_label = " + ".join(str(f) for f in sources)

    return __init__


def _wrap_preprocess(original: Any) -> Any:
    from sb3_atari_ext.common.validation import HyperparameterError

    @functools.wraps(original)
    def _preprocess_hyperparams(self: Any, hyperparams: dict[str, Any]) -> Any:
        _select_vec_env(self, hyperparams)
        result = original(self, hyperparams)
        from rl_zoo3.utils import ALGOS

        if not (isinstance(self.n_envs, int) and self.n_envs >= 1):
            custom = self.custom_hyperparams or {}
            source = "the -params option" if "n_envs" in custom else self.config
            raise HyperparameterError("n_envs", self.n_envs, "an integer >= 1", source)

        validate = getattr(ALGOS.get(self.algo), "validate_hyperparams", None)
        if validate is not None:
            try:
                validate(result[0])
            except HyperparameterError as exc:
                custom = self.custom_hyperparams or {}
                source = "the -params option" if exc.key.split(".")[0] in custom else self.config
                raise exc.with_source(source) from None
        return result

    return _preprocess_hyperparams


def _wrap_setup(original: Any) -> Any:
    from sb3_atari_ext.zoo.errors import user_errors

    @functools.wraps(original)
    def setup_experiment(self: Any) -> Any:
        try:
            with user_errors(self):
                return original(self)
        finally:
            merged = getattr(self, "_sb3_atari_merged_config", None)
            if merged is not None:  # read by now: leave no temporary file behind
                shutil.rmtree(Path(merged).parent, ignore_errors=True)

    return setup_experiment


def _wrap_save(original: Any) -> Any:
    """RL Zoo's final save, every file atomic (:func:`_save_atomically`), with SIGINT/SIGTERM held
    from the end of ``learn`` until every file is written; a signal that came meanwhile then ends
    the process quietly."""
    from sb3_atari_ext.common.atomic import HELD_SIGNALS

    @functools.wraps(original)
    def save_trained_model(self: Any, model: Any) -> None:
        held = getattr(self, "_sb3_atari_held_mask", None)
        self._sb3_atari_held_mask = None
        if held is None:  # learn() did not hold the signals (an error path): hold them now
            held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        received: list[int] = []
        try:
            _save_atomically(self, model)
        finally:
            previous = {sig: signal.signal(sig, lambda signum, _: received.append(signum)) for sig in HELD_SIGNALS}
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # pending signals arrive here, recorded
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if received:
            name = signal.Signals(received[0]).name
            print(f"{name} received during the final save: the save was completed first", file=sys.stderr)
            raise SystemExit(128 + received[0])

    return save_trained_model


def _save_atomically(manager: Any, model: Any) -> None:
    """What RL Zoo's ``save_trained_model`` writes (model, replay buffer if asked, VecNormalize
    statistics), each file written atomically, for every algorithm (SB3's too)."""
    import os

    from sb3_atari_ext.common.atomic import atomic_write, with_suffix_like_sb3

    print(f"Saving to {manager.save_path}")
    with atomic_write(with_suffix_like_sb3(f"{manager.save_path}/{manager.env_name}", "zip")) as tmp:
        model.save(tmp)
    if hasattr(model, "save_replay_buffer") and manager.save_replay_buffer:
        print("Saving replay buffer")
        with atomic_write(os.path.join(manager.save_path, "replay_buffer.pkl")) as tmp:
            model.save_replay_buffer(tmp)
    if manager.normalize:
        vec_normalize = model.get_vec_normalize_env()
        with atomic_write(os.path.join(manager.params_path, "vecnormalize.pkl")) as tmp:
            vec_normalize.save(tmp)


def _wrap_learn(original: Any) -> Any:
    from sb3_atari_ext.common.signals import StopTrainingOnSignal
    from sb3_atari_ext.zoo.errors import user_errors

    @functools.wraps(original)
    def learn(self: Any, model: Any) -> None:
        from sb3_atari_ext.analysis.metrics import MetricsCallback

        stopper = StopTrainingOnSignal(verbose=1)
        # metrics.yml in the run folder: what `sb3-atari report` and the dashboard plot
        metrics = MetricsCallback(self.save_path, interval=max(100, int(self.n_timesteps) // 200))
        replay = replay_checkpoint(self)
        extra = [stopper, metrics, *([replay] if replay else [])]
        self.callbacks.extend(extra)
        first_step = model.num_timesteps
        try:
            with stopper.handle_signals(), user_errors(self, started=lambda: model.num_timesteps > first_step):
                try:
                    original(self, model)
                finally:
                    # From here to the end of the final save, signals wait (RL Zoo saves next).
                    self._sb3_atari_held_mask = _hold_signals()
        except BaseException:
            _release_signals(self)
            raise
        finally:
            for callback in extra:
                self.callbacks.remove(callback)

    return learn


def _hold_signals() -> Any:
    from sb3_atari_ext.common.atomic import HELD_SIGNALS

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)


def _release_signals(manager: Any) -> None:
    mask = getattr(manager, "_sb3_atari_held_mask", None)
    manager._sb3_atari_held_mask = None
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def replay_checkpoint(manager: Any) -> Any:
    """With ``--save-replay-buffer`` and ``--save-freq N``: a callback that writes the replay buffer
    (with its priorities) atomically every N steps next to RL Zoo's model checkpoints, so that a
    killed run loses at most one interval and ``-i <checkpoint>`` resumes with it."""
    if not (getattr(manager, "save_replay_buffer", False) and getattr(manager, "save_freq", -1) > 0):
        return None
    from sb3_atari_ext.common.atomic import ReplayCheckpointCallback

    return ReplayCheckpointCallback(Path(manager.save_path) / "replay_buffer.pkl", max(manager.save_freq // manager.n_envs, 1))


_PATCHES = {
    "rl_zoo3.utils": patch_utils,
    "rl_zoo3.hyperparams_opt": patch_hyperparams_opt,
    "rl_zoo3.exp_manager": patch_exp_manager,
}


def patch_module(module: ModuleType) -> None:
    """Apply the patch for ``module`` once. A failure warns and RL Zoo keeps working without our
    plugins; in strict mode (``SB3_ATARI_EXT_STRICT=1``, for plugin authors) it is one error line
    naming the plugin."""
    from sb3_atari_ext.plugins import _strict

    patch = _PATCHES.get(module.__name__)
    if patch is None or getattr(module, PATCHED, False):
        return
    setattr(module, PATCHED, True)
    try:
        patch(module)
    except Exception as exc:  # noqa: BLE001 - RL Zoo must keep working without our plugins
        if _strict():
            from sb3_atari_ext.zoo.errors import fail

            fail(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc))
        warnings.warn(f"sb3_atari_ext: could not add plugins to {module.__name__}: {exc!r}", stacklevel=2)


def apply() -> None:
    """Patch RL Zoo explicitly (what ``sb3-atari train`` does; no ``.pth`` hook needed)."""
    from sb3_atari_ext.zoo import autoload

    autoload.install(force=True)
    for name in _PATCHES:  # utils first: exp_manager reuses its patched get_class_by_name
        patch_module(importlib.import_module(name))
