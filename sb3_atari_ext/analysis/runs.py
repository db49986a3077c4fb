"""Read RL Zoo run folders (``logs/<algo>/<env>_<n>/``): episodes, evaluations, metrics, status.

Shared by ``sb3-atari report`` and the dashboard; it only reads the files RL Zoo and our
callbacks write (``*.monitor.csv``, ``evaluations.npz``, ``metrics.yml``, ``<env>.zip``), so
any RL Zoo log folder works.
"""

from __future__ import annotations

import csv
import re
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rl_zoo3.utils import ALGOS

from sb3_atari_ext.common.run_folder import DAMAGED_WEIGHTS, FAILED_MARKER, check_model_file, is_damaged_weights
from sb3_atari_ext.common.validation import first_line
from sb3_atari_ext.plugins import get_registry

_RUN = re.compile(r"(?P<env>.+)_(?P<id>\d+)")


class UnreadableRunFileWarning(UserWarning):
    """A file of a run folder could not be read; the run is shown without it."""


def _unreadable(file: Path, reason: str) -> None:
    warnings.warn(f"{file} is unreadable ({reason}); the run is shown without it", UnreadableRunFileWarning, stacklevel=3)
RUNNING_WITHIN_S = 120.0  # a run whose files changed this recently, with no final model, is running


@dataclass
class Run:
    """One RL Zoo run folder."""

    path: Path
    algo: str
    env: str  # the folder's env name (``/`` of namespaced ids replaced by ``-``)
    run_id: int
    frames: np.ndarray = field(default_factory=lambda: np.zeros(0))  # cumulative Monitor steps (emulator frames)
    rewards: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0))  # episode lengths in Monitor steps
    mtime: float = 0.0
    frames_per_step: int = 1  # Monitor steps per agent step (the frame skip of wrappers above it)

    @property
    def timesteps(self) -> np.ndarray:
        """Agent timesteps (what ``-n`` counts) at the end of each episode."""
        return self.frames // self.frames_per_step

    @property
    def episode_steps(self) -> np.ndarray:
        """Episode lengths in agent steps."""
        return self.lengths // self.frames_per_step

    def config(self) -> dict[str, Any]:
        """The run's hyperparameters (RL Zoo's ``<env>/config.yml``; empty when missing or unreadable)."""

        file = self.path / self.env / "config.yml"
        if not file.is_file():
            return {}
        try:
            config = yaml.unsafe_load(file.read_text()) or {}
        except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
            _unreadable(file, first_line(exc))
            return {}
        if not isinstance(config, dict):
            _unreadable(file, f"a {type(config).__name__}, not RL Zoo's mapping of hyperparameters")
            return {}
        return dict(config)

    @property
    def name(self) -> str:
        return f"{self.algo}/{self.env}_{self.run_id}"

    @property
    def model(self) -> Path:
        return self.path / f"{self.env}.zip"

    @property
    def status(self) -> str:
        if self.model.is_file():
            return "finished"
        if (self.path / FAILED_MARKER).is_file():
            return "failed"
        return "running" if time.time() - self.mtime < RUNNING_WITHIN_S else "stopped"

    def best_episode(self) -> float | None:
        """The highest return of a single episode."""
        return float(self.rewards.max()) if len(self.rewards) else None

    def mean_last(self, episodes: int = 100) -> float | None:
        """The mean return of the last ``episodes`` episodes (all of them when fewer)."""
        return float(self.rewards[-episodes:].mean()) if len(self.rewards) else None

    def metrics(self) -> list[dict[str, float]]:
        """Records of ``metrics.yml`` (empty when the run has none)."""

        file = self.path / "metrics.yml"
        if not file.is_file():
            return []
        try:
            records = yaml.safe_load(file.read_text()) or []
        except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
            _unreadable(file, first_line(exc))
            return []
        if not (isinstance(records, list) and all(isinstance(r, dict) for r in records)):
            _unreadable(file, "not a list of metric records")
            return []
        return records

    def evaluations(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(timesteps, mean evaluation reward)`` from ``evaluations.npz``, if any."""
        file = self.path / "evaluations.npz"
        if not file.is_file():
            return None
        try:
            with np.load(file) as data:
                timesteps, results = np.asarray(data["timesteps"]), np.asarray(data["results"], dtype=float)
            if results.ndim != 2 or len(results) != len(timesteps):
                raise ValueError(f"results of shape {results.shape} for {len(timesteps)} timesteps")
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:  # npz: a zip of arrays
            reason = "not an evaluations file of SB3's EvalCallback" if "pickled" in str(exc) else first_line(exc)
            _unreadable(file, reason)
            return None
        if len(timesteps) == 0:
            return None
        return timesteps, results.mean(axis=1)

    def summary(self) -> dict[str, Any]:
        best, last = self.best_episode(), self.mean_last()
        return {
            "run": self.name,
            "algo": self.algo,
            "env": self.env,
            "id": self.run_id,
            "timesteps": int(self.timesteps[-1]) if len(self.timesteps) else 0,
            "episodes": int(len(self.rewards)),
            "best_episode": None if best is None else round(best, 2),
            "mean_last_100": None if last is None else round(last, 2),
            "status": self.status,
        }


def read_monitor(files: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Episodes of all Monitor files of a run, in time order: (cumulative steps, rewards, lengths)."""
    rows: list[tuple[float, float, int]] = []
    for file in files:
        try:
            with open(file, newline="", errors="replace") as f:
                lines = [line for line in f if not line.startswith("#")]
        except OSError:
            continue  # removed while we read
        bad = 0
        for row in csv.DictReader(lines):
            try:
                rows.append((float(row["t"]), float(row["r"]), int(float(row["l"]))))
            except (KeyError, TypeError, ValueError):  # a line cut short (a run killed mid-write)
                bad += 1
        if bad:
            warnings.warn(f"{file}: skipped {bad} unreadable line(s)", stacklevel=2)
    rows.sort()
    rewards = np.array([r for _, r, _ in rows], dtype=np.float64)
    lengths = np.array([n for _, _, n in rows], dtype=np.int64)
    return np.cumsum(lengths), rewards, lengths


def find_runs(logs: str | Path) -> list[Run]:
    """Every ``<algo>/<env>_<n>`` folder under ``logs`` that has Monitor files or a model."""
    runs = []
    root = Path(logs)
    if not root.is_dir():
        return runs
    for algo_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for run_dir in sorted(p for p in algo_dir.iterdir() if p.is_dir()):
            match = _RUN.fullmatch(run_dir.name)
            if match is None:
                continue
            monitors = sorted(run_dir.glob("*monitor.csv"))
            if not monitors and not any(run_dir.glob("*.zip")):
                continue
            run = Run(run_dir, algo_dir.name, match.group("env"), int(match.group("id")))
            run.frames, run.rewards, run.lengths = read_monitor(monitors)
            run.frames_per_step = frames_per_step(run.config())
            stamps = [f.stat().st_mtime for f in (*monitors, run_dir / "metrics.yml") if f.exists()]
            run.mtime = max(stamps, default=run_dir.stat().st_mtime)
            runs.append(run)
    return runs


def frames_per_step(config: dict[str, Any]) -> int:
    """Monitor steps per agent step of a run: RL Zoo puts the Monitor under the ``env_wrapper``
    chain, so a frame-skipping wrapper there (``AtariWrapper``'s ``frame_skip``, default 4, or
    ``SkipFrame``'s ``skip``) makes the Monitor count emulator frames."""
    value = config.get("env_wrapper")
    items = value if isinstance(value, list) else [value] if value else []
    factor = 1
    for item in items:
        name, kwargs = next(iter(item.items())) if isinstance(item, dict) and len(item) == 1 else (item, {})
        name = name if isinstance(name, str) else getattr(name, "__name__", "")
        kwargs = kwargs or {}
        if name.rsplit(".", 1)[-1] == "AtariWrapper":
            factor *= int(kwargs.get("frame_skip", 4))
        elif name.rsplit(".", 1)[-1] == "SkipFrame":
            factor *= int(kwargs.get("skip", 4))
    return max(1, factor)


#: hyperparameters that do not make two runs different experiments
NOT_GROUPING = frozenset({"n_timesteps", "seed", "device", "verbose", "tensorboard_log"})


def group_runs(runs: list[Run]) -> dict[str, list[Run]]:
    """Runs grouped by algorithm, env and hyperparameters (``config.yml``). A group is named by
    its algorithm, plus what differs from the algorithm's other configurations on the same env
    (``ddqn_prio [policy=TransformerPolicy]``); seeds of one configuration form one group, and
    one configuration per algorithm and env is simply the algorithm's name."""
    configs: dict[tuple[str, str], dict[str, Any]] = {}
    keyed: dict[tuple[str, str, str], list[Run]] = {}
    for run in runs:
        config = {k: v for k, v in run.config().items() if k not in NOT_GROUPING}
        key = repr(sorted((k, repr(v)) for k, v in config.items()))
        configs[(run.algo, key)] = config
        keyed.setdefault((run.algo, run.env, key), []).append(run)
    per_env: dict[tuple[str, str], list[str]] = {}
    for algo, env, key in keyed:
        per_env.setdefault((algo, env), []).append(key)
    groups: dict[str, list[Run]] = {}
    for (algo, env, key), members in keyed.items():
        keys = per_env[(algo, env)]
        label = algo
        if len(keys) > 1:
            names = sorted({k for other in keys for k in configs[(algo, other)]})
            differing = [k for k in names if len({repr(configs[(algo, other)].get(k)) for other in keys}) > 1]
            parts = [f"{k}={_short(configs[(algo, key)].get(k))}" for k in differing[:3]]
            label = f"{algo} [{', '.join(parts)}{', ...' if len(differing) > 3 else ''}]"
        groups.setdefault(f"{label}\x00{env}", []).extend(members)
    return groups


def _short(value: Any, width: int = 24) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.rsplit(".", 1)[-1] if isinstance(value, str) and text.count(".") > 1 else text
    return text if len(text) <= width else text[: width - 3] + "..."


def split_group(key: str) -> tuple[str, str]:
    """``(group label, env)`` of a key of :func:`group_runs`."""
    label, _, env = key.partition("\x00")
    return label, env


def load_model(algo: str, path: str | Path, **kwargs: Any) -> Any:
    """Load a saved model of ``algo`` (a plugin's or one built into RL Zoo) for playing.

    :raises ValueError: listing the known algorithms when ``algo`` is unknown
    """

    algos = {**ALGOS, **get_registry().algorithms()}
    if algo not in algos:
        raise ValueError(f"unknown algorithm {algo!r}; known: {', '.join(sorted(algos))}")
    check_model_file(path)
    # as rl_zoo3.enjoy: no optimizer schedule is needed to act
    custom_objects = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0}
    try:
        return algos[algo].load(path, custom_objects=custom_objects, **kwargs)
    except Exception as exc:
        if is_damaged_weights(exc):
            raise ValueError(f"{path}: {DAMAGED_WEIGHTS}") from None
        raise
