"""``rl_zoo3.train --optimize`` at scale: storages with heartbeats, metrics per trial, sampler context.

What the RL Zoo bridge adds to RL Zoo's Optuna loop (``ExperimentManager.hyperparameters_optimization``
and ``objective``):
- **Embedded storage by default**: with no ``--storage``, trials go to the journal file
  ``<log folder>/<algo>/optuna.log`` (study ``<algo>-<env id>`` unless ``--study-name``), which
  ``optuna-dashboard logs/<algo>/optuna.log`` opens; running the command again adds trials to it.
- **Database storages** (``--storage sqlite:///...`` or ``postgresql+psycopg://user:pw@host/db``
  with ``--study-name``, for many workers on many machines) are opened with a heartbeat
  (``SB3_ATARI_EXT_HEARTBEAT`` seconds, default 60) and a grace period
  (``SB3_ATARI_EXT_GRACE``, default twice the heartbeat): a trial whose worker died (SIGKILL,
  lost machine) is marked FAIL by the next worker that starts a trial, and re-queued with the
  same parameters (``RetryFailedTrialCallback``, ``SB3_ATARI_EXT_RETRIES``, default 3).
  An unreachable database or a bad URL stops the command at once with a one-line message.
- **Metrics per trial**: each trial writes ``metrics.yml`` next to its model
  (``<optimization log path>/trial_<n>/``, by default ``<log folder>/<algo>/optimize_<env>/``) and
  stores its last record as the trial's user attribute ``metrics``; the study keeps the
  algorithm, env id and base hyperparameters as user attributes for ``sb3-atari study``.
- **Sampler context**: plugin samplers get ``additional_args["policy"]`` and ``["env_id"]`` (to
  offer image networks only for image policies); a sampled ``n_envs`` sets the trial's env count.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna

from sb3_atari_ext.common.redact import redact
from sb3_atari_ext.common.storage import ATTR_PREFIX, StorageError, load_study, open_storage, retry_callback
from sb3_atari_ext.common.validation import first_line
from sb3_atari_ext.zoo.errors import remove_unstarted_run

__all__ = ["ATTR_PREFIX", "CURRENT", "StorageError", "load_study", "open_storage", "redact", "retry_callback"]

#: The experiment manager whose trial is running (set by its ``objective``; samplers read it).
CURRENT: contextvars.ContextVar[Any] = contextvars.ContextVar("sb3_atari_ext_manager", default=None)


def _study_attrs(manager: Any) -> dict[str, Any]:
    """What ``sb3-atari study`` needs to write a ready-to-use RL Zoo yaml."""

    base = {}
    for key, value in dict(getattr(manager, "base_hyperparams", None) or {}).items():
        try:
            json.dumps(value)
        except TypeError:
            value = str(value)
        base[key] = value
    return {"algo": manager.algo, "env": manager.env_name.gym_id, "hyperparams": base}


@contextlib.contextmanager
def search_storage(manager: Any) -> Iterator[None]:
    """The storage of ``manager.hyperparameters_optimization()`` (RL Zoo's Optuna loop).

    No ``--storage``: the journal ``<log folder>/<algo>/optuna.log``. A database URL is opened
    here, with heartbeats and retries, and handed to RL Zoo as the storage object (RL Zoo passes
    it to ``optuna.create_study``); the URL string is restored afterwards. Any storage error is one
    ``error:`` line. RL Zoo's setup made a run folder (a monitor file) although a search trains in
    trial folders: it is removed at the end, so no phantom run is left for report/dashboard.
    """

    if manager.storage is None:
        manager.storage = os.path.join(manager.log_folder, manager.algo, "optuna.log")
        print(f"sb3_atari_ext: Optuna journal storage {manager.storage} (open it with optuna-dashboard)")
    if manager.study_name is None:
        manager.study_name = f"{manager.algo}-{manager.env_name.gym_id}"
    if manager.optimization_log_path is None:
        manager.optimization_log_path = os.path.join(manager.log_folder, manager.algo, f"optimize_{manager.env_name}")
    given = manager.storage
    try:
        try:  # fail fast, before any trial: bad URL, missing driver, unreachable server, bad journal
            opened = open_storage(given)
            _load_or_create_study(manager, opened, given)
        except StorageError as exc:
            raise SystemExit(f"error: {exc}") from None
        if not given.endswith(".log"):
            manager.storage = opened
        try:
            yield
        except StorageError as exc:
            raise SystemExit(f"error: {exc}") from None
        finally:
            manager.storage = given
    finally:
        remove_unstarted_run(Path(manager.save_path))


def _load_or_create_study(manager: Any, storage: Any, given: str) -> None:
    """The study RL Zoo is about to load or create, made here first (as RL Zoo does: maximize,
    load if it exists), so that a storage Optuna cannot use fails with one line naming it; a new
    study gets its context (algorithm, env id, base hyperparameters) as user attributes."""

    try:
        study = optuna.create_study(storage=storage, study_name=manager.study_name, load_if_exists=True, direction="maximize")
    except (AssertionError, ValueError, KeyError) as exc:  # e.g. a journal Optuna cannot replay
        reason = first_line(exc)
        raise StorageError(f"cannot create or load the study in {redact(given)} ({reason}): is the storage corrupt?") from None
    if f"{ATTR_PREFIX}algo" not in study.user_attrs:
        for key, value in _study_attrs(manager).items():
            study.set_user_attr(ATTR_PREFIX + key, value)


def with_trial_metrics(manager: Any, trial: Any) -> list[Any]:
    """RL Zoo callbacks of one trial: the manager's plus a ``MetricsCallback`` writing
    ``metrics.yml`` in ``trial_<n>/``."""
    path = os.path.join(manager.optimization_log_path or manager.log_path, f"trial_{trial.number}")
    interval = max(1, int(manager.n_timesteps) // 20)
    spec = {"sb3_atari_ext.common.metrics.MetricsCallback": {"path": path, "interval": interval, "trial": trial}}
    # Ctrl-C during the search: the trial's training stops at its next step (see the manager)
    stop = {"sb3_atari_ext.common.signals.StopWhenRequested": {"requested": lambda: manager.search_interrupted}}
    callbacks = manager.specified_callbacks
    specified = callbacks if isinstance(callbacks, list) else [callbacks] if callbacks else []
    return [*specified, spec, stop]


def with_context(sampler: Any) -> Any:
    """Wrap a plugin sampler: pass the trial's policy and env id, apply a sampled ``n_envs``."""

    @functools.wraps(sampler)
    def wrapped(trial: Any, n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
        manager = CURRENT.get()
        args = dict(additional_args)
        if manager is not None:
            args.setdefault("policy", str(manager._hyperparams.get("policy", "")))
            args.setdefault("env_id", manager.env_name.gym_id)
        params = sampler(trial, n_actions, n_envs, args)
        if "n_envs" in params:
            params = dict(params)
            sampled = int(params.pop("n_envs"))
            if manager is not None:
                manager.n_envs = sampled  # RL Zoo divides the evaluation frequency by it
                manager.trial_n_envs = sampled  # create_envs builds that many
        return params

    return wrapped
