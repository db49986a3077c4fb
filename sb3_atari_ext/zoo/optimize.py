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

import contextvars
import functools
import os
import random
import re
import time
import types
from pathlib import Path
from typing import Any

ENV_HEARTBEAT = "SB3_ATARI_EXT_HEARTBEAT"
ENV_GRACE = "SB3_ATARI_EXT_GRACE"
ENV_RETRIES = "SB3_ATARI_EXT_RETRIES"
ATTR_PREFIX = "sb3_atari_ext."

_STALE_CALLBACK_ARG = ""  # the RDBStorage argument of this Optuna version (renamed in 4.9)
_TRIAL: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("sb3_atari_ext_trial", default=None)


class StorageError(RuntimeError):
    """The Optuna storage cannot be opened (bad URL, missing driver, unreachable database)."""


_SECRET_QUERY_KEYS = {"password", "passwd", "pwd", "secret", "token", "sslpassword", "api_key"}


def redact(url: str) -> str:
    """``url`` with every password replaced by ``***``.

    Covers ``user:secret@host``, an empty user (``://:secret@host``), passwords containing ``@``
    (the host starts after the last ``@`` of the authority) and ``?password=secret`` style query
    parameters. A journal path (no ``://``) is returned unchanged.
    """
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^?#]*?)(/[^?#]*)?([?#].*)?$", url)
    if match is None:
        return url
    scheme, authority, path, query = match.group(1), match.group(2), match.group(3) or "", match.group(4) or ""
    if "@" not in authority and "@" in path:  # a password with "/" in it: the authority ends at the last "@"
        head, _, tail = (authority + path).rpartition("@")
        authority, path = head + "@" + tail.split("/", 1)[0], "/" + tail.split("/", 1)[1] if "/" in tail else ""
    if "@" in authority:
        userinfo, host = authority.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        authority = f"{userinfo}@{host}"
    keys = "|".join(sorted(_SECRET_QUERY_KEYS))
    query = re.sub(rf"([?&;](?:{keys})=)[^&;#]*", r"\1***", query, flags=re.IGNORECASE)
    return f"{scheme}{authority}{path}{query}"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise StorageError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise StorageError(f"{name} must be > 0, got {raw!r}")
    return value


def open_storage(storage: str, create: bool = True) -> Any:
    """An Optuna storage for ``storage``: a journal file (``*.log``) or a database URL.

    Database storages get the heartbeat, grace period and retry callback described above.
    ``create=False`` refuses a journal file that does not exist yet (readers such as
    ``sb3-atari study`` must not create one).

    :raises StorageError: with the reason, the password masked
    """

    if storage.endswith(".log") and "://" not in storage:
        return _open_journal(storage, create=create)
    if "://" not in storage:
        raise StorageError(
            f"--storage {storage!r} is neither a journal file (ending in .log) nor a database URL "
            "(sqlite:///study.db, postgresql+psycopg://user:password@host:5432/db)"
        )
    global _STALE_CALLBACK_ARG
    _STALE_CALLBACK_ARG = _STALE_CALLBACK_ARG or _stale_callback_arg()
    heartbeat = _env_float(ENV_HEARTBEAT, 60.0)
    grace = _env_float(ENV_GRACE, 2 * heartbeat)
    retries = int(_env_float(ENV_RETRIES, 3))
    engine_kwargs: dict[str, Any] = {}
    if storage.startswith("postgresql"):
        engine_kwargs = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 5}}
    for attempt in range(5):
        try:
            from sb3_atari_ext.zoo.redacted_storage import RedactedRDBStorage

            return RedactedRDBStorage(
                storage,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=int(max(1, heartbeat)),
                grace_period=int(max(1, grace)),
                **{_STALE_CALLBACK_ARG: retry_callback(retries)},
            )
        except Exception as exc:  # noqa: BLE001 - sqlalchemy/driver errors of every kind
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            # Workers starting together on a new database race to create Optuna's tables; the
            # loser sees a unique-constraint error and simply retries (the tables now exist).
            if attempt < 4 and ("UniqueViolation" in reason or "already exists" in reason):
                time.sleep(0.2 + random.random())
                continue
            raise StorageError(f"cannot open the Optuna storage {redact(storage)}: {reason}") from None
    raise AssertionError("unreachable")


def _open_journal(path: str, create: bool) -> Any:
    """A journal storage; a folder, a missing file (unless ``create``) or a corrupt journal is a
    :class:`StorageError` naming the file."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    if os.path.isdir(path):
        raise StorageError(f"the Optuna journal {path} is a folder; give a file path ending in .log")
    if not create and not os.path.isfile(path):
        raise StorageError(f"no Optuna journal at {path}")
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        storage = optuna.storages.JournalStorage(JournalFileBackend(path))
        storage.get_all_studies()  # replays the journal now: a corrupt one fails here, naming the file
        return storage
    except (ValueError, OSError, AssertionError, KeyError) as exc:  # json.JSONDecodeError is a ValueError
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(f"cannot read the Optuna journal {path} ({reason}): is it a journal written by Optuna?") from None


def _stale_callback_arg() -> str:
    import inspect

    import optuna

    parameters = inspect.signature(optuna.storages.RDBStorage.__init__).parameters
    return "heartbeat_stale_trial_callback" if "heartbeat_stale_trial_callback" in parameters else "failed_trial_callback"


def retry_callback(max_retry: int) -> Any:
    """Optuna's callback that re-queues a trial whose worker stopped sending heartbeats."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):  # Optuna >= 4.9
            return optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
        return optuna.storages.RetryFailedTrialCallback(max_retry=max_retry)


def _study_attrs(manager: Any) -> dict[str, Any]:
    """What ``sb3-atari study`` needs to write a ready-to-use RL Zoo yaml."""
    import json

    base = {}
    for key, value in dict(getattr(manager, "_sb3_atari_saved_hyperparams", None) or {}).items():
        try:
            json.dumps(value)
        except TypeError:
            value = str(value)
        base[key] = value
    return {"algo": manager.algo, "env": manager.env_name.gym_id, "hyperparams": base}


class _OptunaWithStorages(types.ModuleType):
    """Stands in for ``optuna`` inside ``rl_zoo3.exp_manager``: ``create_study`` opens URL
    storages with heartbeats (RL Zoo passes them as strings) and records the study's context."""

    def __init__(self) -> None:
        super().__init__("optuna")
        import optuna

        self._optuna = optuna
        self.manager: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._optuna, name)

    def create_study(self, *args: Any, **kwargs: Any) -> Any:
        storage = kwargs.get("storage")
        given = storage if isinstance(storage, str) else getattr(self.manager, "storage", None)
        label = redact(given) if isinstance(given, str) else "the Optuna storage"
        if isinstance(storage, str):
            kwargs["storage"] = open_storage(storage)
        try:
            study = self._optuna.create_study(*args, **kwargs)
        except (AssertionError, ValueError, KeyError) as exc:  # a journal Optuna cannot replay
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StorageError(
                f"cannot create or load the study in {label} ({reason}): is the storage corrupt?"
            ) from None
        if self.manager is not None and f"{ATTR_PREFIX}algo" not in study.user_attrs:
            for key, value in _study_attrs(self.manager).items():
                study.set_user_attr(ATTR_PREFIX + key, value)
        return study


def patch(module: types.ModuleType) -> None:
    """Wrap ``ExperimentManager.hyperparameters_optimization`` and ``objective`` (rl_zoo3.exp_manager)."""
    proxy = _OptunaWithStorages()
    module.optuna = proxy
    manager = module.ExperimentManager
    manager.hyperparameters_optimization = _wrap_optimization(manager.hyperparameters_optimization, proxy)
    manager.read_hyperparameters = _keep_saved_hyperparams(manager.read_hyperparameters)
    manager.objective = _wrap_objective(manager.objective)


def _wrap_optimization(original: Any, proxy: _OptunaWithStorages) -> Any:
    @functools.wraps(original)
    def hyperparameters_optimization(self: Any) -> None:
        env_id = self.env_name.gym_id
        if self.storage is None:
            self.storage = os.path.join(self.log_folder, self.algo, "optuna.log")
            print(f"sb3_atari_ext: Optuna journal storage {self.storage} (open it with optuna-dashboard)")
        if self.study_name is None:
            self.study_name = f"{self.algo}-{env_id}"
        if self.optimization_log_path is None:
            self.optimization_log_path = os.path.join(self.log_folder, self.algo, f"optimize_{self.env_name}")
        from sb3_atari_ext.zoo.errors import remove_unstarted_run

        # RL Zoo's setup made a run folder (a monitor file) although a search trains in trial
        # folders: it is removed at the end, so no phantom run is left for report/dashboard.
        try:
            try:  # fail fast, before any trial: bad URL, missing driver, unreachable server, bad journal
                open_storage(self.storage)
            except StorageError as exc:
                raise SystemExit(f"error: {exc}") from None
            proxy.manager = self
            try:
                original(self)
            except StorageError as exc:
                raise SystemExit(f"error: {exc}") from None
            finally:
                proxy.manager = None
        finally:
            remove_unstarted_run(Path(self.save_path))

    return hyperparameters_optimization


def _keep_saved_hyperparams(original: Any) -> Any:
    """Remember the yaml entry (with ``-params``) RL Zoo reads, for the study's user attributes."""

    @functools.wraps(original)
    def read_hyperparameters(self: Any) -> Any:
        result = original(self)
        self._sb3_atari_saved_hyperparams = dict(result[1])
        return result

    return read_hyperparameters


def _wrap_objective(original: Any) -> Any:
    @functools.wraps(original)
    def objective(self: Any, trial: Any) -> float:
        path = os.path.join(self.optimization_log_path or self.log_path, f"trial_{trial.number}")
        interval = max(1, int(self.n_timesteps) // 20)
        spec = {"sb3_atari_ext.analysis.metrics.MetricsCallback": {"path": path, "interval": interval, "trial": trial}}
        callbacks, n_envs = self.specified_callbacks, self.n_envs
        specified = callbacks if isinstance(callbacks, list) else [callbacks] if callbacks else []
        self.specified_callbacks = [*specified, spec]
        token = _TRIAL.set({"manager": self, "trial": trial})
        try:
            return original(self, trial)
        finally:
            _TRIAL.reset(token)
            self.specified_callbacks, self.n_envs = callbacks, n_envs
            self._sb3_atari_trial_n_envs = None

    return objective


def with_context(sampler: Any) -> Any:
    """Wrap a plugin sampler: pass the trial's policy and env id, apply a sampled ``n_envs``."""

    @functools.wraps(sampler)
    def wrapped(trial: Any, n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
        context = _TRIAL.get() or {}
        manager = context.get("manager")
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
                manager._sb3_atari_trial_n_envs = sampled  # create_envs builds that many
        return params

    return wrapped


def trial_n_envs(manager: Any, n_envs: int, eval_env: bool, no_log: bool) -> int:
    """The env count ``create_envs`` should build during a trial."""
    sampled = getattr(manager, "_sb3_atari_trial_n_envs", None)
    return sampled if sampled and no_log and not eval_env else n_envs
