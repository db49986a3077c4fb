"""User mistakes in an RL Zoo run as one ``error:`` line, with nothing half-written.

RL Zoo turns most bad values into a Python traceback from deep inside SB3 (an unknown ``-params``
key is a ``TypeError`` of the algorithm's constructor, a bad learning-rate string an unpacking
``ValueError``, an unknown wrapper ``ValueError: Empty module name``). :func:`user_errors` wraps
the stages that read user input (reading and processing hyperparameters, building envs and the
model, starting to learn) and exits with one line naming the key, the value, where it came from
and what would be accepted. ``SB3_ATARI_EXT_DEBUG=1`` re-raises with the traceback instead.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sb3_atari_ext.common.arguments import one_line_errors_in
from sb3_atari_ext.common.run_folder import DAMAGED_WEIGHTS, is_damaged_weights, mark_failed
from sb3_atari_ext.common.validation import env_flag, first_line

ENV_DEBUG = "SB3_ATARI_EXT_DEBUG"


def _debug() -> bool:
    return env_flag(ENV_DEBUG)


def config_label(manager: Any) -> str:
    """The hyperparameter file(s) of a run as the user knows them (not a merged temporary file)."""
    return str(getattr(manager, "config_label", None) or getattr(manager, "config", "the hyperparameters file"))


def _source(manager: Any, key: str) -> str:
    custom = getattr(manager, "custom_hyperparams", None) or {}
    return "the -params option" if key in custom else config_label(manager)


#: hyperparameters whose value is a dict of keyword arguments for a class the algorithm builds, and
#: the word the class's name holds (a TypeError of ``DDQNPrioPolicy.__init__()`` belongs to policy_kwargs)
CONTAINERS = {"policy_kwargs": "Policy", "replay_buffer_kwargs": "Buffer", "env_kwargs": "Env"}


def _holds(value: Any, key: str) -> bool:
    if isinstance(value, dict):
        return key in value
    return isinstance(value, str) and re.search(rf"\b{re.escape(key)}\s*=", value) is not None


def _container_of(manager: Any, key: str, text: str) -> str | None:
    """The dict-valued hyperparameter (``policy_kwargs``, ...) an unknown keyword ``key`` came in."""
    custom = getattr(manager, "custom_hyperparams", None) or {}
    for container in CONTAINERS:
        if _holds(custom.get(container), key):
            return container
    for container, word in CONTAINERS.items():
        if word and word in text.split("(", 1)[0]:
            return container
    return None


def _container_source(manager: Any, container: str, key: str) -> str:
    custom = getattr(manager, "custom_hyperparams", None) or {}
    return "the -params option" if _holds(custom.get(container), key) else config_label(manager)


class TrialSelectionError(ValueError):
    """``--trial-id`` names no trial of the study, or comes without ``--storage`` / ``--study-name``."""


def _known_names(kind: str | None = None) -> str:
    from sb3_atari_ext.plugins import get_registry
    registry = get_registry()
    return ", ".join(sorted(registry.names(kind) if kind else registry.short_names()))


#: The last resort: upstream failures recognised by their message text (what SB3 / RL Zoo / Python
#: raise has no type of its own). Each entry is name -> (exception type, text in its first line,
#: where it comes from). ``tests/zoo/test_errors_and_safety.py`` makes the real upstream code raise
#: each one (``UPSTREAM_CASES``): a rewording upstream fails that test instead of turning a clean
#: line back into a traceback.
UPSTREAM_MESSAGES: dict[str, tuple[type[BaseException], str, str]] = {
    "sb3_train_freq": (AssertionError, "collect one step", "SB3 OffPolicyAlgorithm.collect_rollouts, SAC's train_freq 0"),
    "zoo_env_id": (ValueError, "not found in gym registry", "RL Zoo train.py, an env id it does not know"),
    "zoo_yaml_not_mapping": (AttributeError, "has no attribute 'keys'", "RL Zoo read_hyperparameters, a yaml list"),
    "python_unknown_keyword": (TypeError, "unexpected keyword argument", "Python, an argument a constructor lacks"),
    "zoo_empty_wrapper": (ValueError, "Empty module name", "importlib via RL Zoo get_wrapper_class, a bare class name"),
    "zoo_schedule_no_underscore": (ValueError, "not enough values to unpack", "RL Zoo _preprocess_schedules, 'abc'"),
    "zoo_schedule_not_number": (ValueError, "could not convert string to float", "RL Zoo _preprocess_schedules, 'lin_abc'"),
    "zoo_schedule_type": (ValueError, "Invalid value for", "RL Zoo _preprocess_schedules, a list or dict"),
    "python_missing_argument": (TypeError, "required positional argument", "Python, a yaml entry without 'policy'"),
    "zoo_no_entry": (ValueError, "Hyperparameters not found for", "RL Zoo read_hyperparameters, no entry for the env"),
}


def _upstream(exc: BaseException, name: str) -> bool:
    """Whether ``exc`` is the upstream failure ``name`` of :data:`UPSTREAM_MESSAGES`."""
    kind, text, _ = UPSTREAM_MESSAGES[name]
    return isinstance(exc, kind) and text in first_line(exc)


def describe(exc: BaseException, manager: Any) -> str:
    """The one-line message for ``exc`` raised while RL Zoo set up or started a run, with any
    URL in it masked (RL Zoo's own messages quote ``--storage`` as given)."""
    from sb3_atari_ext.common.redact import redact_text

    return redact_text(_describe(exc, manager))


def _describe(exc: BaseException, manager: Any) -> str:
    from sb3_atari_ext.common.validation import HyperparameterError

    text = first_line(exc)
    algo = getattr(manager, "algo", "?")
    from sb3_atari_ext.common.q_learning import NonFiniteLossError
    from sb3_atari_ext.common.storage import StorageError
    from sb3_atari_ext.common.validation import MissingExtraError

    if isinstance(exc, (MissingExtraError, StorageError, TrialSelectionError)):
        return text
    if is_damaged_weights(exc):
        return DAMAGED_WEIGHTS
    if _upstream(exc, "sb3_train_freq"):
        return f"invalid hyperparameter train_freq: {text} (expected an integer >= 1)"
    if _upstream(exc, "zoo_env_id") or (isinstance(exc, AssertionError) and str(exc).strip()):
        return text  # RL Zoo's own checks (env id with its "did you mean", -i path, ...) say what is wrong
    if isinstance(exc, NonFiniteLossError):
        return f"{text} Checkpoints saved so far are kept in {getattr(manager, 'save_path', 'the run folder')}."
    if isinstance(exc, HyperparameterError):
        return text if exc.source else str(exc.with_source(_source(manager, exc.key.split(".")[0])))
    if type(exc).__module__.startswith("yaml"):
        return f"cannot read the hyperparameters file {config_label(manager)}: {text}"
    if _upstream(exc, "zoo_yaml_not_mapping"):
        return f"the hyperparameters file {config_label(manager)} must be a mapping of env ids to settings"
    match = re.search(r"unexpected keyword argument '([^']+)'", text) if _upstream(exc, "python_unknown_keyword") else None
    if match:
        key = match.group(1)
        container = _container_of(manager, key, text)
        if container is not None:
            owner = text.split("(", 1)[0].split(".")[0].strip() or container
            return (
                f"unknown key {key!r} in {container} for {algo} in {_container_source(manager, container, key)}: "
                f"it is not an argument of {owner}"
            )
        return f"unknown hyperparameter {key!r} for {algo} in {_source(manager, key)}: it is not an argument of {algo}"
    if _upstream(exc, "python_missing_argument"):
        missing = re.findall(r"'([^']+)'", text)
        names = ", ".join(missing) or "a required setting"
        where = config_label(manager)
        return f"the hyperparameters of {algo} in {where} have no {names} (every entry needs it, e.g. policy: 'MlpPolicy')"
    if _upstream(exc, "zoo_no_entry"):
        return f"{text} (add an entry for the env id, or 'atari' for Atari games, to the file)"
    if isinstance(exc, OSError) and exc.filename and exc.strerror:  # not "[Errno 20] Not a directory: 'x'"
        return f"{exc.filename}: {exc.strerror.lower()}"
    if isinstance(exc, NameError) and not isinstance(exc, UnboundLocalError):  # the latter: a bug, not a name
        name = getattr(exc, "name", None) or text
        return (
            f"unknown name {name!r} in a hyperparameter (policy_kwargs, replay_buffer_class, ...) of "
            f"{config_label(manager)} or -params; registered names: {_known_names()}"
        )
    if _upstream(exc, "zoo_empty_wrapper") or isinstance(exc, ModuleNotFoundError):
        return (
            f"unknown wrapper or class in env_wrapper/callback ({text}) of {config_label(manager)} or -params; "
            f"registered wrappers: {_known_names('wrappers')}, or a dotted path such as "
            "stable_baselines3.common.atari_wrappers.AtariWrapper"
        )
    if any(_upstream(exc, name) for name in ("zoo_schedule_no_underscore", "zoo_schedule_not_number", "zoo_schedule_type")):
        return f"invalid learning_rate or clip_range ({text}): expected a number or a schedule like lin_0.001"
    if isinstance(exc, ZeroDivisionError):
        return f"invalid hyperparameter for {algo} ({text}): n_envs, n_steps and batch sizes must be >= 1"
    return f"{type(exc).__name__}: {text} (set {ENV_DEBUG}=1 for the traceback)"


@contextlib.contextmanager
def user_errors(manager: Any, started: Callable[[], bool] | None = None) -> Iterator[None]:
    """Turn any exception of the block into ``SystemExit("error: ...")``.

    A run that never trained leaves nothing behind: the run folder is removed (if it holds no model
    zip) when the block created it, or, with ``started`` given (the learning stage), when
    ``started()`` says no step was taken.
    """
    save_path = getattr(manager, "save_path", None)
    existed = bool(save_path) and Path(save_path).exists()
    try:
        yield
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:
        if _debug():
            raise
        message = f"error: {describe(exc, manager)}"
        if save_path and (not started() if started is not None else not existed):
            remove_unstarted_run(Path(save_path))
        elif save_path and Path(save_path).is_dir() and not any(Path(save_path).glob("*.zip")):
            mark_failed(Path(save_path), message)
        raise SystemExit(message) from None


ENTRY_POINTS = ("rl_zoo3.train", "rl_zoo3.enjoy", "rl_zoo3.record_video")


def install_entry_point_excepthook() -> None:
    """In ``python -m rl_zoo3.train`` / ``enjoy`` / ``record_video``, an exception nothing caught
    (RL Zoo's own argument checks raise ``AssertionError`` / ``ValueError`` before any manager
    exists: a missing ``-i`` file, a misspelled env id) ends in one ``error:`` line and a
    non-zero exit; an interrupt in ``error: interrupted``. ``SB3_ATARI_EXT_DEBUG=1`` keeps the
    traceback. Other programs keep their own hook."""
    if not _running_entry_point():
        return
    previous = sys.excepthook

    def one_line(exc_type: type[BaseException], exc: BaseException, traceback: Any) -> None:
        if _debug() or not issubclass(exc_type, Exception | KeyboardInterrupt):
            previous(exc_type, exc, traceback)
        elif issubclass(exc_type, KeyboardInterrupt):
            print("error: interrupted", file=sys.stderr)
        else:
            print(f"error: {describe(exc, None)}", file=sys.stderr)

    sys.excepthook = one_line


def entry_point_argument_errors() -> None:
    """In ``python -m rl_zoo3.train`` / ``enjoy`` / ``record_video``, a mistake on the command line
    is one ``error:`` line pointing at ``--help`` instead of RL Zoo's usage block. Called when
    ``rl_zoo3.exp_manager`` is imported: by then the script (``__main__``) has imported argparse,
    and it builds its parser later, in its ``train()`` / ``enjoy()`` / ``record_video()``."""
    name = _entry_point_name()
    if name is not None:
        one_line_errors_in(sys.modules.get("__main__"), f"python -m {name}")
    if name in ("rl_zoo3.enjoy", "rl_zoo3.record_video"):
        interrupts_exit_130()


_INTERRUPTED: list[bool] = []


def interrupts_exit_130() -> None:
    """RL Zoo's ``enjoy`` and ``record_video`` catch Ctrl-C, close the env and return normally, so
    the process would exit 0 as if it had played to the end. From here on, Ctrl-C still raises
    ``KeyboardInterrupt`` where it lands, and the process then ends with ``error: interrupted``
    and exit status 130 (after RL Zoo's own cleanup, at interpreter exit). Idempotent."""
    if _INTERRUPTED:
        return
    _INTERRUPTED.append(False)

    def note(signum: int, frame: Any) -> None:
        _INTERRUPTED[0] = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note)
    atexit.register(_exit_if_interrupted)


def _exit_if_interrupted() -> None:
    if _INTERRUPTED and _INTERRUPTED[0]:
        print("error: interrupted", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(130)  # a SystemExit raised at exit would be ignored


def _running_entry_point() -> bool:
    """Whether this process is ``python -m rl_zoo3.<entry point>`` (RL Zoo imports its utils while
    ``-m`` is still resolving the module, so ``sys.orig_argv`` tells, not ``sys.argv``)."""
    return _entry_point_name() is not None


def _entry_point_name() -> str | None:
    """``rl_zoo3.train`` (/ ``enjoy`` / ``record_video``) when this process runs that entry point."""
    argv = list(getattr(sys, "orig_argv", []) or [])
    if "-m" in argv[:-1]:
        name = argv[argv.index("-m") + 1]
        return name if name in ENTRY_POINTS else None
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.parent.name == "rl_zoo3" and f"rl_zoo3.{script.stem}" in ENTRY_POINTS:
        return f"rl_zoo3.{script.stem}"
    return None


def remove_unstarted_run(folder: Path) -> None:
    """Remove a run folder RL Zoo created for a run that never trained (no model zip in it)."""
    if folder.is_dir() and not any(folder.rglob("*.zip")):
        shutil.rmtree(folder, ignore_errors=True)


def fail(message: str) -> None:
    """Print ``error: message`` on stderr and exit 2 (for argparse actions and hooks)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)
