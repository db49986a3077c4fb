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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_RUN = re.compile(r"(?P<env>.+)_(?P<id>\d+)")
RUNNING_WITHIN_S = 120.0  # a run whose files changed this recently, with no final model, is running


@dataclass
class Run:
    """One RL Zoo run folder."""

    path: Path
    algo: str
    env: str  # the folder's env name (``/`` of namespaced ids replaced by ``-``)
    run_id: int
    timesteps: np.ndarray = field(default_factory=lambda: np.zeros(0))  # cumulative Monitor steps at each episode end
    rewards: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mtime: float = 0.0

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
        return "running" if time.time() - self.mtime < RUNNING_WITHIN_S else "stopped"

    def best_reward(self, window: int = 10) -> float | None:
        if len(self.rewards) == 0:
            return None
        k = min(window, len(self.rewards))
        return float(np.convolve(self.rewards, np.ones(k) / k, mode="valid").max())

    def last_reward(self, window: int = 10) -> float | None:
        return float(self.rewards[-window:].mean()) if len(self.rewards) else None

    def metrics(self) -> list[dict[str, float]]:
        """Records of ``metrics.yml`` (empty when the run has none)."""
        import yaml

        file = self.path / "metrics.yml"
        if not file.is_file():
            return []
        try:
            return list(yaml.safe_load(file.read_text()) or [])
        except yaml.YAMLError:
            return []

    def evaluations(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(timesteps, mean evaluation reward)`` from ``evaluations.npz``, if any."""
        file = self.path / "evaluations.npz"
        if not file.is_file():
            return None
        data = np.load(file)
        if len(data["timesteps"]) == 0:
            return None
        return data["timesteps"], data["results"].mean(axis=1)

    def summary(self) -> dict[str, Any]:
        best, last = self.best_reward(), self.last_reward()
        return {
            "run": self.name,
            "algo": self.algo,
            "env": self.env,
            "id": self.run_id,
            "steps": int(self.timesteps[-1]) if len(self.timesteps) else 0,
            "episodes": int(len(self.rewards)),
            "best_reward": None if best is None else round(best, 2),
            "last_reward": None if last is None else round(last, 2),
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
            run.timesteps, run.rewards, run.lengths = read_monitor(monitors)
            stamps = [f.stat().st_mtime for f in (*monitors, run_dir / "metrics.yml") if f.exists()]
            run.mtime = max(stamps, default=run_dir.stat().st_mtime)
            runs.append(run)
    return runs


def mean_curve(
    runs: list[Run], attr: str = "rewards", points: int = 100, window: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """``(steps, mean, lower, upper)``: the mean over runs (seeds) of a smoothed per-episode
    quantity on a common step grid, with a 95% confidence band (normal approximation; zero width
    for a single run)."""
    curves = []
    for run in runs:
        values = getattr(run, attr).astype(np.float64)
        if len(values) < 2:
            continue
        k = min(window, len(values))
        smooth = np.convolve(values, np.ones(k) / k, mode="valid")
        curves.append((run.timesteps[k - 1 :], smooth))
    if not curves:
        return None
    end = min(x[-1] for x, _ in curves)
    start = max(x[0] for x, _ in curves)
    if end <= start:
        start, end = min(x[0] for x, _ in curves), max(x[-1] for x, _ in curves)
    grid = np.linspace(start, end, points)
    ys = np.array([np.interp(grid, x, y) for x, y in curves])
    mean = ys.mean(axis=0)
    half = 1.96 * ys.std(axis=0, ddof=1) / np.sqrt(len(ys)) if len(ys) > 1 else np.zeros_like(mean)
    return grid, mean, mean - half, mean + half


def load_model(algo: str, path: str | Path, **kwargs: Any) -> Any:
    """Load a saved model of ``algo`` (a plugin's or one built into RL Zoo) for playing.

    :raises ValueError: listing the known algorithms when ``algo`` is unknown
    """
    from rl_zoo3.utils import ALGOS

    from sb3_atari_ext.plugins import get_registry

    algos = {**ALGOS, **get_registry().algorithms()}
    if algo not in algos:
        raise ValueError(f"unknown algorithm {algo!r}; known: {', '.join(sorted(algos))}")
    check_model_file(path)
    # as rl_zoo3.enjoy: no optimizer schedule is needed to act
    custom_objects = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0}
    return algos[algo].load(path, custom_objects=custom_objects, **kwargs)


def check_model_file(path: str | Path) -> None:
    """Raise ``ValueError`` unless ``path`` is a complete SB3 model zip (not truncated or corrupt)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        reason = f"truncated or corrupt zip: {exc}"
        raise ValueError(f"{path} is not a readable model ({reason}); was its save interrupted?") from None
    if "data" not in names or broken is not None:
        raise ValueError(f"{path} is not a complete SB3 model (missing 'data' or a corrupt member {broken!r})")
