"""Loading plugins and collecting what they register.

Plugins are found through the entry-point group ``sb3_atari_ext``. Each entry point is loaded on
its own: one that fails to import gives one warning naming it and everything else keeps working
(``SB3_ATARI_EXT_STRICT=1`` makes such failures fatal, for plugin authors).
``SB3_ATARI_EXT_PLUGINS=builtin,my_plugin`` loads only the named entry points.

Three steps: **loading** (:class:`Registry` loads the entry points into a pluggy manager),
**collecting** (:func:`collect_entries` calls every hook implementation with a ``register``
callback bound to the plugin, so it knows which distribution registered each entry, and refuses
a name that two plugins register, naming both distributions) and **checking** (one function per
kind in :data:`CHECKS`).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from sb3_atari_ext import hookspecs
from sb3_atari_ext.common.validation import env_flag

ENTRY_POINT_GROUP = "sb3_atari_ext"
ENV_ONLY = "SB3_ATARI_EXT_PLUGINS"
ENV_STRICT = "SB3_ATARI_EXT_STRICT"


class PluginLoadWarning(UserWarning):
    """A plugin could not be imported or one of its hooks failed; it was skipped."""


class PluginConflictError(ValueError):
    """Two plugins registered the same name."""


class UnknownComponentError(ValueError):
    """A name that no installed plugin registers."""


# Which hook fills which kind of entry, and how many leading positional arguments form the key
# (``register_policies`` is keyed by (algo, alias), the others by one name).
KINDS: dict[str, tuple[str, int]] = {
    "algorithms": ("register_algorithms", 1),
    "policies": ("register_policies", 2),
    "feature_extractors": ("register_feature_extractors", 1),
    "replay_buffers": ("register_replay_buffers", 1),
    "wrappers": ("register_wrappers", 1),
    "reward_functions": ("register_reward_functions", 1),
    "switch_conditions": ("register_switch_conditions", 1),
    "envs": ("register_envs", 1),
    "vec_envs": ("register_vec_envs", 1),
    "hyperparams": ("register_hyperparams", 1),
    "samplers": ("register_samplers", 1),
}


@dataclass
class PluginInfo:
    """One loaded (or failed) plugin."""

    name: str
    distribution: str
    version: str
    module: str
    error: str | None = None
    hooks: list[str] = field(default_factory=list)
    disabled: str | None = None  # why the plugin's registrations are ignored (a name conflict)


@dataclass
class Entry:
    """One registered component."""

    kind: str
    key: tuple[str, ...]
    value: Any
    plugin: str
    distribution: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        # hyperparams are keyed (algo, plugin) internally: several plugins may add env entries
        return self.key[0] if self.kind == "hyperparams" else ":".join(self.key)


def _strict() -> bool:
    return env_flag(ENV_STRICT)


def _only() -> set[str] | None:
    raw = os.environ.get(ENV_ONLY)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _fail(message: str, exc: BaseException | None = None) -> None:
    if _strict():
        raise RuntimeError(message) from exc
    warnings.warn(message, PluginLoadWarning, stacklevel=3)


def _check_file(kind: str, key: tuple[str, ...], value: Any, extra: dict[str, Any]) -> None:
    if not Path(value).is_file():
        raise ValueError(f"hyperparameter file for {key[0]!r} does not exist: {value}")


def _check_env_entry_point(kind: str, key: tuple[str, ...], value: Any, extra: dict[str, Any]) -> None:
    if not (callable(value) or (isinstance(value, str) and ":" in value)):
        raise TypeError(f"entry point of env {key[0]!r} must be 'module:callable' or callable, got {value!r}")


def _check_callable(kind: str, key: tuple[str, ...], value: Any, extra: dict[str, Any]) -> None:
    if not callable(value):
        raise TypeError(f"{kind[:-1]} {key[-1]!r} must be callable, got {value!r}")


def _check_sampler(kind: str, key: tuple[str, ...], value: Any, extra: dict[str, Any]) -> None:
    converter = extra.get("converter")
    if not callable(value) or (converter is not None and not callable(converter)):
        raise TypeError(f"sampler for {key[0]!r} and its converter must be callable")


def _subclass_of(module: str, base_name: str) -> Callable[..., None]:
    """A check that the entry is a subclass of ``module.base_name`` (imported only when checked:
    SB3's base classes load torch)."""

    def check(kind: str, key: tuple[str, ...], value: Any, extra: dict[str, Any]) -> None:
        base = getattr(importlib.import_module(module), base_name)
        if not (isinstance(value, type) and issubclass(value, base)):
            raise TypeError(f"{kind[:-1].replace('_', ' ')} {key[-1]!r} must be a subclass of {base_name}, got {value!r}")

    return check


#: one check per kind: raises ``TypeError`` / ``ValueError`` when an entry is not what its hook promises
CHECKS: dict[str, Callable[[str, tuple[str, ...], Any, dict[str, Any]], None]] = {
    "algorithms": _subclass_of("stable_baselines3.common.base_class", "BaseAlgorithm"),
    "policies": _subclass_of("stable_baselines3.common.policies", "BasePolicy"),
    "feature_extractors": _subclass_of("stable_baselines3.common.torch_layers", "BaseFeaturesExtractor"),
    "replay_buffers": _subclass_of("stable_baselines3.common.buffers", "ReplayBuffer"),
    "wrappers": _check_callable,
    "reward_functions": _check_callable,
    "switch_conditions": _check_callable,
    "envs": _check_env_entry_point,
    "vec_envs": _check_callable,
    "hyperparams": _check_file,
    "samplers": _check_sampler,
}


def _check_entry(kind: str, key: tuple[str, ...], value: Any, extra: dict[str, Any]) -> None:
    """Raise ``TypeError``/``ValueError`` when ``value`` is not what the hook promises."""
    for part in key:
        if not isinstance(part, str) or not part:
            raise ValueError(f"{kind} names must be non-empty strings, got {part!r}")
    CHECKS[kind](kind, key, value, extra)


# Kinds whose short names share one namespace in RL Zoo yaml (policy_kwargs, env_wrapper, ...).
SHORT_NAME_KINDS = ("feature_extractors", "replay_buffers", "wrappers", "reward_functions")


class _Conflict(Exception):
    """A plugin's registration clashes with an earlier one: that plugin gets disabled."""

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(message)
        self.plugin, self.message = plugin, message


def _is_class_path(name: str) -> bool:
    """Whether ``name`` (``pkg.module.Class``) names an importable module's attribute."""
    module, dot, _ = name.rpartition(".")
    if not dot:
        return False
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _check_shadowing(
    entries: dict[str, dict[tuple[str, ...], Entry]], kind: str, name: str, what: str, plugin: str, dist: str
) -> None:
    for other_kind in SHORT_NAME_KINDS:
        other = entries[other_kind].get((name,))
        if other_kind != kind and other is not None:
            raise _Conflict(
                plugin,
                f"{what} of {dist} shadows the {other_kind[:-1].replace('_', ' ')} of the same name registered by "
                f"plugin {other.plugin!r} (distribution {other.distribution}): short names are shared in yaml",
            )
    if _is_class_path(name):
        raise _Conflict(plugin, f"{what} of {dist} shadows the class path {name!r}: register it under a short name")


# -- collecting: call every hook with a ``register`` callback bound to its plugin --------------
def collect_entries(pm: pluggy.PluginManager, plugins: dict[str, PluginInfo]) -> dict[str, dict[tuple[str, ...], Entry]]:
    """Call every hook once and return the checked entries by kind. A plugin whose name clashes
    with an earlier plugin's (or shadows another kind's short name or a dotted class path) is
    disabled with one warning naming both distributions, and the collection starts over without
    it; everything else keeps working."""
    while True:
        try:
            entries = _collect_once(pm, plugins)
            apply_policy_aliases(entries)
            return entries
        except _Conflict as conflict:
            info = plugins.get(conflict.plugin)
            if info is None or info.disabled is not None:  # cannot happen twice: safety net
                raise PluginConflictError(conflict.message) from None
            info.disabled = conflict.message
            _fail(f"sb3_atari_ext: plugin {conflict.plugin!r} ({info.distribution}) is disabled: {conflict.message}")


def _collect_once(pm: pluggy.PluginManager, plugins: dict[str, PluginInfo]) -> dict[str, dict[tuple[str, ...], Entry]]:
    entries: dict[str, dict[tuple[str, ...], Entry]] = {kind: {} for kind in KINDS}
    for kind, (hook_name, n_key) in KINDS.items():
        caller = getattr(pm.hook, hook_name)
        # get_hookimpls() lists implementations in registration order (pluggy *calls* them
        # in reverse); each is called on its own to know which plugin registered what.
        for impl in caller.get_hookimpls():
            info = plugins.get(impl.plugin_name)
            if info is not None and info.disabled is not None:
                continue
            dist = info.distribution if info else impl.plugin_name
            register = _make_register(entries, kind, n_key, impl.plugin_name, dist)
            try:
                impl.function(register=register)
            except _Conflict:
                raise
            except Exception as exc:  # noqa: BLE001 - a broken hook must not break the others
                _fail(f"sb3_atari_ext: hook {hook_name} of plugin {impl.plugin_name!r} ({dist}) failed: {exc!r}", exc)
    return entries


def _make_register(
    entries: dict[str, dict[tuple[str, ...], Entry]], kind: str, n_key: int, plugin: str, dist: str
) -> Callable[..., None]:
    table = entries[kind]

    def register(*args: Any, **extra: Any) -> None:
        if len(args) != n_key + 1:
            raise TypeError(f"register() for {kind} takes {n_key + 1} positional arguments, got {len(args)}")
        key, value = tuple(args[:n_key]), args[n_key]
        _check_entry(kind, key, value, extra)
        if kind == "hyperparams":
            key = (*key, plugin)  # merged per algorithm by the RL Zoo bridge
        what = f"{kind[:-1].replace('_', ' ')} {':'.join(key)!r}"
        if key in table:
            other = table[key]
            raise _Conflict(
                plugin,
                f"{what} is already registered by plugin {other.plugin!r} (distribution {other.distribution}); "
                f"this plugin is {dist}. Uninstall one, or load only one with {ENV_ONLY}.",
            )
        if kind in SHORT_NAME_KINDS:
            _check_shadowing(entries, kind, key[0], what, plugin, dist)
        table[key] = Entry(kind, key, value, plugin, dist, extra)

    return register


def apply_policy_aliases(entries: dict[str, dict[tuple[str, ...], Entry]]) -> None:
    """Add each registered policy alias to its algorithm class's ``policy_aliases``."""
    algos = {entry.name: entry.value for entry in entries["algorithms"].values()}
    for (algo, alias), entry in entries["policies"].items():
        cls = algos.get(algo)
        if cls is None:
            _fail(f"sb3_atari_ext: plugin {entry.plugin!r} registers policy {alias!r} for unknown algorithm {algo!r}")
            continue
        # A class-level copy so the alias never leaks into a parent class (e.g. SB3's DQN).
        if "policy_aliases" not in cls.__dict__:
            cls.policy_aliases = dict(cls.policy_aliases)
        cls.policy_aliases[alias] = entry.value


def register_gym_envs(entries: dict[tuple[str, ...], Entry]) -> list[str]:
    """Register plugin env ids with gymnasium (idempotent); returns the ids. An id gymnasium
    already has with another entry point (from outside our plugins) is a :class:`PluginConflictError`."""
    import gymnasium

    ids = []
    for (env_id,), entry in entries.items():
        existing = gymnasium.envs.registry.get(env_id)
        if existing is not None:
            if existing.entry_point != entry.value:
                raise PluginConflictError(
                    f"env {env_id!r} of plugin {entry.plugin!r} ({entry.distribution}) is already registered "
                    f"with gymnasium by something else (entry point {existing.entry_point!r})"
                )
        else:
            gymnasium.register(env_id, entry_point=entry.value, **entry.extra)
        ids.append(env_id)
    return ids


class Registry:
    """The plugin manager, the loaded plugins and (collected on first use by
    :func:`collect_entries`) the components they register.

    :param load_entry_points: load the installed plugins of the ``sb3_atari_ext`` group now.
    """

    def __init__(self, load_entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self._entries: dict[str, dict[tuple[str, ...], Entry]] | None = None
        self._lock = threading.RLock()
        if load_entry_points:
            self.load_entry_points()

    # -- loading -----------------------------------------------------------------------------
    def load_entry_points(self, entry_points: Iterable[importlib.metadata.EntryPoint] | None = None) -> None:
        """Load every entry point of the group (idempotent); isolate the ones that fail."""
        only = _only()
        if entry_points is None:
            entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in entry_points:
            if ep.name in self.plugins or (only is not None and ep.name not in only):
                continue
            dist = getattr(ep, "dist", None)
            dist_name = dist.name if dist is not None else "?"
            version = dist.version if dist is not None else "?"
            try:
                module = ep.load()
            except Exception as exc:  # noqa: BLE001 - any import error of a plugin is isolated
                self.plugins[ep.name] = PluginInfo(ep.name, dist_name, version, ep.value, error=repr(exc))
                _fail(f"sb3_atari_ext: plugin {ep.name!r} ({dist_name} {version}) failed to load and is skipped: {exc!r}", exc)
                continue
            self.register_plugin(module, ep.name, distribution=dist_name, version=version)

    def register_plugin(self, plugin: object, name: str, distribution: str | None = None, version: str = "") -> None:
        """Register a plugin object (a module or any object with hook implementations).

        :param plugin: the object carrying ``@hookimpl`` functions
        :param name: its plugin name (entry-point name for installed plugins)
        :param distribution: the distribution that ships it (defaults to ``name``)
        :param version: the distribution's version
        """
        with self._lock:
            if name in self.plugins and self.plugins[name].error is None:
                return
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
            module = getattr(plugin, "__name__", type(plugin).__name__)
            self.plugins[name] = PluginInfo(name, distribution or name, version, module, hooks=hooks)
            self._entries = None

    # -- collecting ----------------------------------------------------------------------------
    def _collect(self) -> dict[str, dict[tuple[str, ...], Entry]]:
        with self._lock:
            if self._entries is None:
                self._entries = collect_entries(self.pm, self.plugins)
            return self._entries

    # -- queries ---------------------------------------------------------------------------------
    def entries(self, kind: str) -> dict[tuple[str, ...], Entry]:
        """All entries of one kind, keyed by their name tuple."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; kinds are {sorted(KINDS)}")
        return self._collect()[kind]

    def names(self, kind: str) -> dict[str, Any]:
        """``{name: value}`` for single-name kinds (algorithms, buffers, wrappers, ...)."""
        return {entry.name: entry.value for entry in self.entries(kind).values()}

    def get(self, kind: str, *key: str) -> Any:
        """The value registered under ``key``, or an error listing what is known and from where."""
        table = self.entries(kind)
        if tuple(key) in table:
            return table[tuple(key)].value
        known = ", ".join(f"{e.name} ({e.distribution})" for e in table.values()) or "none"
        raise UnknownComponentError(f"unknown {kind[:-1].replace('_', ' ')} {':'.join(key)!r}; known: {known}")

    def hyperparams_files(self, algo: str) -> list[Path]:
        """Default yaml files registered for ``algo``, in plugin registration order."""
        return [Path(e.value) for (name, _plugin), e in self.entries("hyperparams").items() if name == algo]

    def algorithms(self) -> dict[str, type]:
        """``{algo_name: algorithm_class}`` (registered policy aliases were applied to each class
        once, when the registry was collected)."""
        return self.names("algorithms")

    def short_names(self) -> dict[str, Any]:
        """Registered short names usable in RL Zoo yaml and ``-params`` (buffers, extractors,
        wrappers, reward functions), plus the algorithm class names (``DDQNPrio``)."""
        names: dict[str, Any] = {}
        for kind in ("replay_buffers", "feature_extractors", "wrappers", "reward_functions"):
            names.update(self.names(kind))
        for cls in self.names("algorithms").values():
            names.setdefault(cls.__name__, cls)
        return names

    def register_envs(self) -> list[str]:
        """Register every plugin env id with gymnasium (idempotent); returns the ids."""
        return register_gym_envs(self.entries("envs"))

    def describe(self) -> list[dict[str, Any]]:
        """One dict per plugin: distribution, version, hooks and every name it registers."""
        collected = self._collect()
        out = []
        for info in self.plugins.values():
            registered: dict[str, list[str]] = {}
            for kind, table in collected.items():
                names = sorted(e.name for e in table.values() if e.plugin == info.name)
                if names:
                    registered[kind] = names
            out.append(
                {
                    "name": info.name,
                    "distribution": info.distribution,
                    "version": info.version,
                    "module": info.module,
                    "hooks": info.hooks,
                    "registers": registered,
                    "error": info.error,
                    "disabled": info.disabled,
                }
            )
        return out


_registry: Registry | None = None
_registry_lock = threading.Lock()


def get_registry() -> Registry:
    """The process-wide registry of installed plugins (created on first use)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = Registry()
        return _registry


def reset_registry() -> None:
    """Forget the process-wide registry (tests, or after installing a plugin at run time)."""
    global _registry
    with _registry_lock:
        _registry = None
