"""Aggregate a benchmark's finished runs: the scores its report (:mod:`sb3_atari_ext.benchmark.report`) gives.

Scores: the final evaluation of each run (mean return of RL Zoo's last ``evaluations.npz`` entry,
deterministic policy). Per game they are normalized two ways: by a uniform-random agent
(``(s - random) / |random|`` is meaningless when the random score is 0, so the random score is only
subtracted) and by the baseline variant, ``(s - random) / (baseline_mean - random)``, so the
baseline's mean is 1 on every game. The aggregate over games and seeds is the interquartile mean
(IQM) and the mean, each with a stratified-bootstrap 95% confidence interval, and performance
profiles (Agarwal et al. 2021, "Deep RL at the Edge of the Statistical Precipice"; computed in
:mod:`sb3_atari_ext.benchmark.stats`). A game whose baseline mean is no better than random has no
baseline-normalized score: the report says so and normalizes by ``score - random`` instead.

A second, steadier score averages each run's last :data:`TAIL_EVALS` evaluations (normalized by the
baseline's mean of that same score); the report gives its table after the headline aggregate.

A variant with its own budget (``pqn: {budget: 5000000}``) is also scored at the baseline's
wall-clock: on each game, the evaluation each of its runs had reached after the baseline's mean
wall-clock per run, reading the run's wall-clock as spent at an even pace over its steps
(:func:`score_at_wall_clock`); those scores get the same IQM and mean.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from sb3_atari_ext.benchmark import stats
from sb3_atari_ext.benchmark.grid import Grid
from sb3_atari_ext.benchmark.runner import load_manifest, run_key, write_json_atomic

BOOTSTRAP_REPS = 2000
#: evaluations averaged by the report's steadier second score (one 10-episode evaluation is noisy:
#: a dqn run on MinAtar Asterix read 21.7 at 425k steps and 7.6 at 500k)
TAIL_EVALS = 3


@dataclass
class RunResult:
    variant: str
    env: str
    seed: int
    folder: Path
    timesteps: np.ndarray  # evaluation points (agent steps)
    returns: np.ndarray  # mean evaluation return at each point
    wall_time_s: float | None
    settings: dict[str, Any] | None = None  # the hyperparameters it trained with, where recorded

    @property
    def final(self) -> float:
        return float(self.returns[-1])

    @property
    def tail(self) -> float:
        """Mean of the last :data:`TAIL_EVALS` evaluations (all of them if there are fewer)."""
        return float(np.mean(self.returns[-TAIL_EVALS:]))


def score_at_wall_clock(run: RunResult, seconds: float, budget: int) -> float | None:
    """The last evaluation ``run`` had reached after ``seconds`` of its wall-clock, its ``budget``
    steps taken at an even pace (``None``: no wall-clock, or no evaluation by then)."""
    if not run.wall_time_s:
        return None
    reached = budget * min(seconds / run.wall_time_s, 1.0)
    done = np.nonzero(run.timesteps <= reached)[0]
    return float(run.returns[done[-1]]) if done.size else None


def read_evaluations(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(timesteps, mean return per evaluation)`` from a run's ``evaluations.npz``."""
    with np.load(folder / "evaluations.npz") as data:
        return np.asarray(data["timesteps"]), np.asarray(data["results"], dtype=float).mean(axis=1)


def finished_runs(grid: Grid, out: Path) -> list[RunResult]:
    """Every finished run of the grid that has an evaluation, from ``<out>/runs.json``: the curve
    the manifest kept when the run finished, else its folder's ``evaluations.npz``.

    The manifest's own record comes first: RL Zoo numbers run folders per machine, so on another
    checkout (an empty ``logs/``) a later run can be given the folder number a finished run had,
    and reading that folder would report the later run twice."""
    manifest = load_manifest(out)
    results = []
    for variant, env, seed in grid.runs():
        entry = manifest.get(run_key(grid, variant, env, seed))
        if not entry or entry.get("status") != "finished":
            continue
        folder = Path(entry["folder"])
        if "eval_returns" in entry:
            timesteps, returns = np.asarray(entry["eval_timesteps"]), np.asarray(entry["eval_returns"], dtype=float)
        else:
            try:
                timesteps, returns = read_evaluations(folder)
            except (OSError, KeyError, ValueError):
                warnings.warn(f"{folder}: no readable evaluations.npz; run left out of the report", stacklevel=2)
                continue
        if len(returns) == 0:
            continue
        results.append(
            RunResult(variant.name, env, seed, folder, timesteps, returns, entry.get("wall_time_s"), entry.get("settings"))
        )
    return results


def random_scores(envs: list[str], out: Path, episodes: int = 10, seed: int = 0) -> dict[str, float]:
    """Mean return of a uniform-random agent per env (cached in ``<out>/random_scores.json``)."""
    path = out / "random_scores.json"
    cached: dict[str, float] = json.loads(path.read_text()) if path.is_file() else {}
    missing = [env for env in envs if env not in cached]
    if missing:
        for env_id in missing:
            env = gym.make(env_id)
            env.action_space.seed(seed)
            total = []
            for episode in range(episodes):
                env.reset(seed=seed + episode)
                done, score = False, 0.0
                while not done:
                    _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                    score += float(reward)
                    done = terminated or truncated
                total.append(score)
            env.close()
            cached[env_id] = float(np.mean(total))
        write_json_atomic(path, cached)
    return {env: cached[env] for env in envs}


def _score_matrix(
    results: list[RunResult], variant: str, envs: list[str], normalize: Any, score: Any = lambda r: r.final
) -> np.ndarray:
    """``[runs, games]`` normalized scores (``score(run)``, the final one by default) of one variant;
    seeds beyond the smallest count per game are dropped so the matrix is rectangular."""
    per_env = [[normalize(score(r), env) for r in results if r.variant == variant and r.env == env] for env in envs]
    n = min(len(s) for s in per_env)
    return np.array([s[:n] for s in per_env], dtype=float).T if n else np.zeros((0, len(envs)))


def aggregate(grid: Grid, results: list[RunResult], random: dict[str, float]) -> dict[str, Any]:
    """The summary: per variant IQM and mean with 95% CIs, per-env means; see the module doc."""
    envs = [env for env in grid.envs if any(r.env == env for r in results)]
    normalize, undefined, by_baseline = _normalizer(grid.baseline, results, envs, random, lambda r: r.final)
    matrices, points, intervals = _estimates(grid, results, envs, normalize, lambda r: r.final)
    at_wall = _at_baseline_wall_clock(grid, results, envs, normalize if by_baseline else None, random)
    # the same aggregate scored by each run's last TAIL_EVALS evaluations, normalized by the
    # baseline's mean of that same score
    tail_normalize, _, tail_by_baseline = _normalizer(grid.baseline, results, envs, random, lambda r: r.tail)
    _, tail_points, tail_intervals = _estimates(grid, results, envs, tail_normalize, lambda r: r.tail)
    summary: dict[str, Any] = {
        "budget_steps": grid.budget,
        "budget_steps_per_variant": {v.name: grid.budget_of(v) for v in grid.variants},
        "seeds": grid.seeds,
        "envs": envs,
        "baseline": grid.baseline if by_baseline else None,
        "normalization": _normalization_text(by_baseline),
        "random": {env: random[env] for env in envs},
        "baseline_not_above_random": undefined,
        "tail_evaluations": TAIL_EVALS,
        "tail_normalization": _normalization_text(tail_by_baseline),
        "tail_baseline": grid.baseline if tail_by_baseline else None,
        "algorithms": {},
    }
    for variant in grid.variants:
        runs = [r for r in results if r.variant == variant.name]
        if not runs:
            continue
        entry: dict[str, Any] = {
            "algo": variant.algo,
            "params": variant.params,
            "runs": len(runs),
            "seeds_per_env": {env: sum(r.env == env for r in runs) for env in envs},
            "per_env": {env: _mean_or_none([r.final for r in runs if r.env == env]) for env in envs},
            "wall_time_s_mean": _mean_or_none([r.wall_time_s for r in runs if r.wall_time_s is not None]),
        }
        entry.update(_estimate_fields(variant.name, points, intervals))
        entry["settings"] = settings_check(runs)
        entry["tail"] = {
            "per_env": {env: _mean_or_none([r.tail for r in runs if r.env == env]) for env in envs},
            **_estimate_fields(variant.name, tail_points, tail_intervals),
        }
        if variant.name in at_wall:
            entry["at_baseline_wall_clock"] = at_wall[variant.name]
        summary["algorithms"][variant.name] = entry
    summary["_matrices"] = matrices  # for the profile plot; removed before writing
    return summary


def _normalizer(
    baseline: str | None, results: list[RunResult], envs: list[str], random: dict[str, float], score: Any
) -> tuple[Any, list[str], bool]:
    """``(normalize(value, env), games where the baseline is no better than random, whether it
    normalizes by the baseline)`` for the per-run ``score``: by the baseline's mean of that score
    where it is above random on every game, else ``score - random`` (see the module doc)."""
    base_means = {
        env: float(np.mean([score(r) for r in results if r.variant == baseline and r.env == env]))
        for env in envs
        if baseline and any(r.variant == baseline and r.env == env for r in results)
    }

    def by_baseline(value: float, env: str) -> float:
        span = base_means.get(env, math.nan) - random[env]
        return (value - random[env]) / span if span and not math.isnan(span) else math.nan

    # a baseline no better than random on some game: its normalized scores are undefined there
    undefined = [env for env in base_means if not base_means[env] - random[env] > 0]
    if bool(baseline) and len(base_means) == len(envs) and not undefined:
        return by_baseline, undefined, True
    return (lambda value, env: value - random[env]), undefined, False


def _estimates(
    grid: Grid, results: list[RunResult], envs: list[str], normalize: Any, score: Any
) -> tuple[dict[str, np.ndarray], dict[str, Any], dict[str, Any]]:
    """Per variant: the ``[runs, games]`` matrix of normalized ``score`` and its IQM / mean with
    stratified-bootstrap intervals (variants with no run on some game are left out)."""
    matrices = {v.name: _score_matrix(results, v.name, envs, normalize, score=score) for v in grid.variants}
    matrices = {k: m for k, m in matrices.items() if m.size and not np.isnan(m).any()}
    points, intervals = stats.interval_estimates(matrices, reps=BOOTSTRAP_REPS) if matrices else ({}, {})
    return matrices, points, intervals


def _at_baseline_wall_clock(
    grid: Grid, results: list[RunResult], envs: list[str], normalize: Any, random: dict[str, float]
) -> dict[str, dict[str, Any]]:
    """Per variant with its own budget: IQM and mean of its runs' scores at the baseline's mean
    wall-clock per game (a run with no evaluation by then scores random's). Needs a baseline that
    normalizes and a wall-clock for the baseline on every game."""
    if normalize is None:
        return {}
    walls = {}
    for env in envs:
        times = [r.wall_time_s for r in results if r.variant == grid.baseline and r.env == env and r.wall_time_s]
        if not times:
            return {}
        walls[env] = float(np.mean(times))
    found: dict[str, dict[str, Any]] = {}
    for variant in grid.variants:
        if variant.budget is None or variant.name == grid.baseline:
            continue
        budget = grid.budget_of(variant)

        def at_wall(run: RunResult, budget: int = budget) -> float:
            score = score_at_wall_clock(run, walls[run.env], budget)
            return random[run.env] if score is None else score

        matrix = _score_matrix(results, variant.name, envs, normalize, score=at_wall)
        if not matrix.size:
            continue
        points, intervals = stats.interval_estimates({variant.name: matrix}, reps=BOOTSTRAP_REPS)
        found[variant.name] = {
            "baseline_wall_time_s": walls,
            "per_env": {env: float(np.mean([at_wall(r) for r in results if r.variant == variant.name and r.env == env]))
                        for env in envs},
            **_estimate_fields(variant.name, points, intervals),
        }  # fmt: skip
    return found


def settings_check(runs: list[RunResult]) -> dict[str, Any]:
    """Whether a variant's runs trained with one setting, on every game and seed (the grids claim
    one setting for all games): ``recorded`` (runs whose settings the manifest has), ``distinct``
    (how many different ones) and, per hyperparameter that differs, each value with the runs
    (``env seed N``) that had it."""
    recorded = [r for r in runs if r.settings is not None]
    distinct = {json.dumps(r.settings, sort_keys=True, default=str) for r in recorded}
    differs: dict[str, dict[str, list[str]]] = {}
    for key in sorted({k for r in recorded for k in r.settings or {}}):
        values: dict[str, list[str]] = {}
        for r in recorded:
            value = json.dumps((r.settings or {}).get(key, "(not set)"), default=str)
            values.setdefault(value, []).append(f"{r.env} seed {r.seed}")
        if len(values) > 1:
            differs[key] = values
    return {"runs": len(runs), "recorded": len(recorded), "distinct": len(distinct), "differs": differs}


def _normalization_text(by_baseline: bool) -> str:
    return "(score - random) / (baseline mean - random)" if by_baseline else "score - random"


def _estimate_fields(name: str, points: dict[str, Any], intervals: dict[str, Any]) -> dict[str, Any]:
    """``iqm``, ``iqm_ci``, ``mean``, ``mean_ci`` of ``name`` (nothing if it has no estimate)."""
    if name not in points:
        return {}
    (iqm, mean), ((iqm_lo, mean_lo), (iqm_hi, mean_hi)) = points[name], intervals[name]
    return {
        "iqm": float(iqm),
        "iqm_ci": [float(iqm_lo), float(iqm_hi)],
        "mean": float(mean),
        "mean_ci": [float(mean_lo), float(mean_hi)],
    }


def _mean_or_none(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None
