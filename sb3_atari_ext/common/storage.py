"""Optuna storages: journal files and databases opened one way for the bridge, ``sb3-atari study``
and the dashboard, with passwords masked wherever a URL could leak.

- :func:`open_storage`: a journal file (``*.log``) or a database URL. Database storages get a
  heartbeat (``SB3_ATARI_EXT_HEARTBEAT`` seconds, default 60), a grace period
  (``SB3_ATARI_EXT_GRACE``, default twice the heartbeat) and a retry callback
  (``SB3_ATARI_EXT_RETRIES``, default 3): a trial whose worker died is marked FAIL by the next
  worker that starts a trial and re-queued with the same parameters. A bad URL, a missing driver
  or an unreachable database is a :class:`StorageError` with the password masked.
- :class:`RedactedRDBStorage`: an ``RDBStorage`` whose pickled form (RL Zoo pickles the study into
  ``report_*.pkl``) and ``str()`` keep no password.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

import optuna

from sb3_atari_ext.common.redact import redact
from sb3_atari_ext.common.validation import first_line

ENV_HEARTBEAT = "SB3_ATARI_EXT_HEARTBEAT"
ENV_GRACE = "SB3_ATARI_EXT_GRACE"
ENV_RETRIES = "SB3_ATARI_EXT_RETRIES"
#: prefix of the user attributes our studies carry (algorithm, env id, base hyperparameters)
ATTR_PREFIX = "sb3_atari_ext."

_STALE_CALLBACK_ARG = ""  # the RDBStorage argument of this Optuna version (renamed in 4.9)


class StorageError(RuntimeError):
    """The Optuna storage cannot be opened (bad URL, missing driver, unreachable database)."""


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
    _require_driver(storage)
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
            return RedactedRDBStorage(
                storage,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=int(max(1, heartbeat)),
                grace_period=int(max(1, grace)),
                **{_STALE_CALLBACK_ARG: retry_callback(retries)},
            )
        except Exception as exc:  # noqa: BLE001 - sqlalchemy/driver errors of every kind
            reason = first_line(exc)
            # Workers starting together on a new database race to create Optuna's tables; the
            # loser sees a unique-constraint error and simply retries (the tables now exist).
            if attempt < 4 and ("UniqueViolation" in reason or "already exists" in reason):
                time.sleep(0.2 + random.random())
                continue
            raise StorageError(f"cannot open the Optuna storage {redact(storage)}: {reason}") from None
    raise AssertionError("unreachable")


#: PostgreSQL drivers SQLAlchemy names in URLs (``postgresql`` alone means psycopg2), their modules
_POSTGRES_DRIVERS = {"": "psycopg2", "psycopg": "psycopg", "psycopg2": "psycopg2", "asyncpg": "asyncpg", "pg8000": "pg8000"}


def _require_driver(storage: str) -> None:
    """A PostgreSQL URL whose driver is not installed: one line naming our ``postgres`` extra,
    before anything is built (SQLAlchemy would say only "Failed to import DB access module")."""
    import importlib.util

    dialect, _, driver = storage.partition("://")[0].partition("+")
    if dialect not in ("postgresql", "postgres"):
        return
    module = _POSTGRES_DRIVERS.get(driver, driver)
    if importlib.util.find_spec(module) is not None:
        return
    if module == "psycopg":
        hint = 'pip install "sb3-atari-ext[postgres]"'
    else:
        hint = f'pip install {module}, or pip install "sb3-atari-ext[postgres]" and use postgresql+psycopg://'
    raise StorageError(f"the Optuna storage {redact(storage)} needs the {module} package, which is not installed: {hint}")


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
        reason = first_line(exc)
        raise StorageError(f"cannot read the Optuna journal {path} ({reason}): is it a journal written by Optuna?") from None


def _stale_callback_arg() -> str:
    import inspect

    parameters = inspect.signature(optuna.storages.RDBStorage.__init__).parameters
    return "heartbeat_stale_trial_callback" if "heartbeat_stale_trial_callback" in parameters else "failed_trial_callback"


def retry_callback(max_retry: int) -> Any:
    """Optuna's callback that re-queues a trial whose worker stopped sending heartbeats."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):  # Optuna >= 4.9
            return optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
        return optuna.storages.RetryFailedTrialCallback(max_retry=max_retry)


def load_study(storage: str, study_name: str) -> Any:
    """Study ``study_name`` of an existing storage (journal or URL); a missing storage or study is a
    :class:`StorageError` naming the studies that are there (URLs masked)."""
    opened = open_storage(storage, create=False)
    try:
        return optuna.load_study(study_name=study_name, storage=opened)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(opened)]
        known = ", ".join(names) or "none"
        raise StorageError(f"no study named {study_name!r} in {redact(storage)}; studies there: {known}") from None


class RedactedRDBStorage(optuna.storages.RDBStorage):
    """``RDBStorage`` that masks the password of its URL when pickled."""

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state["url"] = redact(state["url"])
        return state

    def __str__(self) -> str:  # RL Zoo prints its storage in messages: never the password
        return redact(self.url)

    def endswith(self, suffix: Any) -> bool:
        """RL Zoo's Optuna loop takes ``--storage`` as a string and opens it as a journal when it
        ends with ``.log``: an opened database storage, handed over in its place, never does."""
        return False
