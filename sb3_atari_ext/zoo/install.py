"""Puts the plugins into RL Zoo's modules, all or nothing per module.

RL Zoo (pinned: rl-zoo3 2.9.2) keeps its registries in module globals and has no plugin API.
When one of its modules finishes executing (:mod:`sb3_atari_ext.zoo.autoload`), :func:`install_into`
makes these changes, and only these:

- ``rl_zoo3.utils``: ``ALGOS`` gains the plugin algorithms (``--algo`` choices); the registered
  short names enter the module's names (``-params`` values are ``eval``-ed there);
  ``get_class_by_name`` / ``get_wrapper_class`` also resolve short names (callbacks, and
  ``env_wrapper`` in ``enjoy``); ``StoreDict`` and ``get_model_path`` give one error line for a
  bad ``-params`` item or a truncated model zip. Plugin env ids are registered with gymnasium.
- ``rl_zoo3.hyperparams_opt``: ``HYPERPARAMS_SAMPLER`` / ``HYPERPARAMS_CONVERTER`` gain the
  plugin samplers.
- ``rl_zoo3.exp_manager``: the short names enter the module's names (``policy_kwargs`` and
  ``replay_buffer_class`` are ``eval``-ed there) and ``ExperimentManager`` becomes
  :class:`~sb3_atari_ext.zoo.manager.PluginExperimentManager`.

Every change is recorded; if any fails, the module is restored exactly, one warning says why, and
RL Zoo works as if no plugin were installed (strict mode, ``SB3_ATARI_EXT_STRICT=1``, makes it one
error line instead).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

from sb3_atari_ext.common.validation import first_line
from sb3_atari_ext.plugins import get_registry
from sb3_atari_ext.zoo import names

MARK = "_sb3_atari_ext_installed"
_MISSING = object()


class _Changes:
    """Changes to one module, undone in reverse order if a later one fails."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self._undo: list[Callable[[], None]] = []

    def set(self, name: str, value: Any) -> None:
        """``module.name = value``."""
        old = self.module.__dict__.get(name, _MISSING)
        self._undo.append(lambda: self._restore(self.module.__dict__, name, old))
        setattr(self.module, name, value)

    def insert(self, table: dict[str, Any], key: str, value: Any) -> None:
        """``table[key] = value`` for a registry table of the module."""
        old = table.get(key, _MISSING)
        self._undo.append(lambda: self._restore(table, key, old))
        table[key] = value

    @staticmethod
    def _restore(table: dict[str, Any], key: str, old: Any) -> None:
        if old is _MISSING:
            table.pop(key, None)
        else:
            table[key] = old

    def undo(self) -> None:
        for step in reversed(self._undo):
            step()
        self._undo.clear()


def _utils(changes: _Changes) -> None:
    from sb3_atari_ext.zoo.errors import install_entry_point_excepthook

    install_entry_point_excepthook()
    utils = changes.module
    for name, cls in get_registry().algorithms().items():
        existing = utils.ALGOS.get(name)
        if existing is not None and existing is not cls:
            message = f"sb3_atari_ext: algorithm {name!r} is built into RL Zoo; the plugin's version is ignored"
            warnings.warn(message, stacklevel=3)
            continue
        changes.insert(utils.ALGOS, name, cls)
    for name, obj in names.short_names().items():
        if name not in utils.__dict__:
            changes.set(name, obj)
    changes.set("get_class_by_name", names.class_by_name(utils.get_class_by_name))
    changes.set("get_wrapper_class", names.wrapper_class(utils.get_wrapper_class))
    changes.set("StoreDict", names.checked_store_dict(utils.StoreDict))
    changes.set("get_model_path", names.checked_model_path(utils.get_model_path))
    get_registry().register_envs()  # before RL Zoo checks --env (gymnasium keeps them: nothing to undo)


def _hyperparams_opt(changes: _Changes) -> None:
    from sb3_atari_ext.zoo.optimize import with_context

    module = changes.module
    for (algo,), entry in get_registry().entries("samplers").items():
        changes.insert(module.HYPERPARAMS_SAMPLER, algo, with_context(entry.value))
        changes.insert(module.HYPERPARAMS_CONVERTER, algo, entry.extra.get("converter") or dict)


class _Deferred(Exception):
    """The manager module is itself importing ``rl_zoo3.exp_manager``: install when it is done."""


#: Set in ``rl_zoo3.exp_manager`` when the install waits for the manager module (which calls it).
FINISH = "_sb3_atari_ext_finish_install"


def _exp_manager(changes: _Changes) -> None:
    import sys

    from sb3_atari_ext.zoo.errors import entry_point_argument_errors

    entry_point_argument_errors()
    manager = sys.modules.get("sb3_atari_ext.zoo.manager")
    if manager is not None and not hasattr(manager, "PluginExperimentManager"):
        raise _Deferred  # e.g. ``import sb3_atari_ext.zoo.manager`` before RL Zoo (Sphinx autodoc)
    for name, obj in names.short_names().items():
        if name not in changes.module.__dict__:
            changes.set(name, obj)
    from sb3_atari_ext.zoo.manager import PluginExperimentManager

    changes.set("ExperimentManager", PluginExperimentManager)


INSTALLERS: dict[str, Callable[[_Changes], None]] = {
    "rl_zoo3.utils": _utils,
    "rl_zoo3.hyperparams_opt": _hyperparams_opt,
    "rl_zoo3.exp_manager": _exp_manager,
}


def install_into(module: ModuleType) -> bool:
    """Make the changes for ``module`` once (idempotent). Returns whether they are in place."""
    from sb3_atari_ext.plugins import _strict

    installer = INSTALLERS.get(module.__name__)
    if installer is None:
        return False
    if module.__dict__.get(MARK):
        return True
    changes = _Changes(module)
    try:
        installer(changes)
    except _Deferred:
        changes.undo()
        module.__dict__[FINISH] = lambda: install_into(module)
        return False
    except Exception as exc:  # noqa: BLE001 - RL Zoo must keep working without our plugins
        changes.undo()
        reason = first_line(exc) if str(exc).strip() else repr(exc)
        if _strict():
            from sb3_atari_ext.zoo.errors import fail

            fail(reason)
        warnings.warn(f"sb3_atari_ext: plugins not added to {module.__name__} (left as it was): {reason}", stacklevel=2)
        return False
    module.__dict__[MARK] = True
    return True


def install_all() -> None:
    """Import RL Zoo's modules and install into each (utils first: the others use its tables)."""
    for name in INSTALLERS:
        install_into(importlib.import_module(name))
