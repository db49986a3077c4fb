"""``apex_status.json``: the live state of an Ape-X run, in its run folder.

Written atomically by the learner every few seconds and at the end::

    {"state": "running", "updated": 1764700000.0, "elapsed_s": 12.3,
     "actors": [{"index": 0, "pid": 4242, "node": "host", "env_steps": 12800, "steps_per_s": 910.5,
                 "epsilon": 0.4, "episodes": 31, "last_score": 12.0, "restarts": 0}, ...],
     "learner": {"pid": 4100, "node": "host", "device": "cpu", "updates": 2900, "updates_per_s": 240.0,
                 "replay_size": 12800, "replay_ratio": 7.3, "env_steps": 12800, "weights_version": 29}}

Read by ``sb3-atari apex status <run folder>`` and by the dashboard.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

STATUS_FILE = "apex_status.json"


def status_path(folder: str | os.PathLike[str]) -> Path:
    """The status file of a run folder (or the file itself when given)."""
    path = Path(folder)
    return path if path.suffix == ".json" else path / STATUS_FILE


def write_status(folder: str | os.PathLike[str], status: dict[str, Any]) -> None:
    """Replace the status file atomically (a reader never sees half a file)."""
    from sb3_atari_ext.common.atomic import write_text_atomic

    write_text_atomic(status_path(folder), json.dumps(status, indent=1))


def read_status(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The status of a run folder; ``FileNotFoundError``/``ValueError`` with a clear message."""
    path = status_path(folder)
    if not path.is_file():
        raise FileNotFoundError(f"no {STATUS_FILE} in {path.parent} (is it the folder of an apex_ddqn run?)")
    try:
        status = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not a valid status file: {exc}") from None
    valid = isinstance(status, dict) and isinstance(status.get("actors"), list) and isinstance(status.get("learner"), dict)
    if not valid:
        raise ValueError(f"{path} is not a valid status file: it needs 'actors' (a list) and 'learner' (a mapping)")
    return status


def _fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and spec:
        return format(value, spec)
    return str(value)


ACTOR_COLUMNS = [
    ("actor", "index", ""),
    ("node", "node", ""),
    ("pid", "pid", ""),
    ("env steps", "env_steps", ""),
    ("steps/s", "steps_per_s", ".1f"),
    ("epsilon", "epsilon", ".3f"),
    ("episodes", "episodes", ""),
    ("last score", "last_score", ".1f"),
    ("restarts", "restarts", ""),
]


def actor_rows(status: dict[str, Any]) -> list[dict[str, str]]:
    """One row per actor, formatted, keyed by the column titles."""
    return [{title: _fmt(actor.get(key), spec) for title, key, spec in ACTOR_COLUMNS} for actor in status["actors"]]


def learner_line(status: dict[str, Any]) -> str:
    """The learner's state in one line."""
    learner = status["learner"]
    parts = [
        f"learner on {learner.get('node', '?')} (pid {learner.get('pid', '?')}, {learner.get('device', '?')})",
        f"{_fmt(learner.get('updates'))} updates",
        f"{_fmt(learner.get('updates_per_s'), '.1f')} updates/s",
        f"replay {_fmt(learner.get('replay_size'))}",
        f"replay ratio {_fmt(learner.get('replay_ratio'), '.2f')}",
        f"{_fmt(learner.get('env_steps'))} env steps",
    ]
    return ", ".join(parts)


def format_status(status: dict[str, Any], now: float | None = None) -> str:
    """The table ``sb3-atari apex status`` prints."""
    now = time.time() if now is None else now
    age = now - float(status.get("updated", now))
    head = f"state: {status.get('state', '?')} (updated {age:.0f} s ago, run time {_fmt(status.get('elapsed_s'), '.0f')} s)"
    rows = actor_rows(status)
    titles = [title for title, _, _ in ACTOR_COLUMNS]
    widths = [max([len(t), *(len(r[t]) for r in rows)]) for t in titles]
    lines = [head, learner_line(status), ""]
    lines.append("  ".join(t.rjust(w) for t, w in zip(titles, widths, strict=True)))
    lines.extend("  ".join(r[t].rjust(w) for t, w in zip(titles, widths, strict=True)) for r in rows)
    restarts = sum(int(a.get("restarts") or 0) for a in status["actors"])
    if restarts:
        lines.append(f"{restarts} actor restart(s); last: {status.get('last_restart', '-')}")
    return "\n".join(lines)
