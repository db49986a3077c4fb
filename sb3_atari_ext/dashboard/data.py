"""What the dashboard shows, read from ``--logs`` (cached by file modification times)."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path
from typing import Any

import optuna

from sb3_atari_ext.analysis.runs import Run, find_runs, group_runs, split_group
from sb3_atari_ext.apex.status import read_status
from sb3_atari_ext.common.redact import redact
from sb3_atari_ext.common.storage import StorageError, open_storage


class LogsData:
    """Runs of one logs folder, re-read at most every ``ttl`` seconds."""

    def __init__(self, logs: str | Path, storage: str | None = None, ttl: float = 2.0) -> None:
        self.logs = Path(logs).resolve()
        self.storage = storage
        self.ttl = ttl
        self._lock = threading.Lock()
        self._runs: list[Run] = []
        self._stamp = -1.0
        self._storage_ids: dict[str, str] = {}

    def runs(self) -> list[Run]:
        with self._lock:
            if time.monotonic() - self._stamp > self.ttl:
                self._runs = find_runs(self.logs)
                self._stamp = time.monotonic()
            return self._runs

    def run(self, name: str) -> Run | None:
        return next((r for r in self.runs() if r.name == name), None)

    def table(self) -> list[dict[str, Any]]:
        """One row per run, with its group (algorithm, env and hyperparameters, as in the report)."""

        runs = self.runs()
        group_of = {}
        for key, members in group_runs(runs).items():
            label, _ = split_group(key)
            for run in members:
                group_of[run.name] = label
        return [{**r.summary(), "group": group_of.get(r.name, r.algo)} for r in runs]

    def newest_group(self, rows: list[dict[str, Any]]) -> list[int]:
        """Indices of ``rows`` in the group (and env) of the most recently written run: what the
        page shows on first load."""
        runs = {r.name: r for r in self.runs()}
        if not rows:
            return []
        newest = max(rows, key=lambda row: runs[row["run"]].mtime if row["run"] in runs else 0.0)
        return [i for i, row in enumerate(rows) if (row["group"], row["env"]) == (newest["group"], newest["env"])]

    def apex_status(self, run: Run) -> dict[str, Any] | None:
        """The ``apex_status.json`` of an Ape-X run folder, or ``None`` (absent or unreadable)."""

        try:
            return read_status(run.path)
        except (OSError, ValueError):
            return None

    def media(self, run: Run) -> list[str]:
        """Images of a run inside ``--logs`` (GIFs and PNGs, e.g. feature maps), as paths relative to it."""
        # per step: the input first, then what the network made of it (feature maps, attention)
        found = [*run.path.rglob("*.gif"), *run.path.rglob("*.png")]
        files = sorted(found, key=lambda p: (str(p.parent), p.name.replace("_input", "_0input")))[:24]
        return [str(f.resolve().relative_to(self.logs)) for f in files]

    # -- Optuna ------------------------------------------------------------------------------------
    def storages(self) -> dict[str, str]:
        """``{opaque id: storage}``: the ``--storage`` given and the journals found under ``--logs``.

        The browser only ever sees the ids; the server opens nothing else.
        """
        found = [str(p) for p in sorted(self.logs.glob("*/optuna.log"))]
        urls = [self.storage, *found] if self.storage else found
        for url in urls:  # random per process: nothing in an id is derived from the URL or its password
            self._storage_ids.setdefault(url, secrets.token_hex(8))
        return {self._storage_ids[url]: url for url in urls}

    def studies(self) -> list[dict[str, Any]]:
        out = []
        for storage_id, url in self.storages().items():
            try:
                storage = open_storage(url)
                summaries = optuna.get_all_study_summaries(storage, include_best_trial=True)
            except (StorageError, Exception):  # noqa: BLE001 - an unreadable storage is listed as such
                out.append({"storage": redact(url), "storage_id": storage_id, "study": None, "error": True})
                continue
            for s in summaries:
                best = s.best_trial
                out.append(
                    {
                        "storage": redact(url),
                        "storage_id": storage_id,
                        "study": s.study_name,
                        "trials": s.n_trials,
                        "best_value": None if best is None else best.value,
                        "best_params": {} if best is None else best.params,
                    }
                )
        return out

    def study_history(self, storage_id: str, name: str) -> list[tuple[int, float]]:
        """Completed trials ``(number, value)`` of study ``name`` in the storage known as ``storage_id``.

        :raises KeyError: for an id this server did not hand out (a client cannot name a storage)
        """

        url = self.storages()[storage_id]
        study = optuna.load_study(study_name=name, storage=open_storage(url))
        return [(t.number, t.value) for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
