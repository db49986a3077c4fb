"""Aggregate statistics of a benchmark on numpy and scipy (Agarwal et al. 2021, "Deep RL at the
Edge of the Statistical Precipice").

A score matrix is ``[runs, games]`` (normalized final scores, one column per game). The
interquartile mean (IQM) is the mean of the middle 50% of all its entries
(``scipy.stats.trim_mean(x, 0.25)``); the mean is the mean over games of the per-game means.
Confidence intervals come from the **stratified bootstrap**: each resample draws, for every game
separately, as many runs as it has, with replacement, and recomputes the statistic; the 95%
interval is the 2.5th and 97.5th percentiles of the resampled statistics. The performance profile
at ``tau`` is the fraction of all runs scoring above ``tau``. These are the definitions of the
rliable library (no longer maintained), whose figures the tests reproduce.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

Statistic = Callable[[np.ndarray], np.ndarray]


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean of every entry of ``scores``."""
    return float(stats.trim_mean(np.asarray(scores, dtype=float), proportiontocut=0.25, axis=None))


def mean(scores: np.ndarray) -> float:
    """Mean over games of the per-game mean score."""
    return float(np.mean(np.mean(scores, axis=0)))


def iqm_and_mean(scores: np.ndarray) -> np.ndarray:
    return np.array([iqm(scores), mean(scores)])


def stratified_bootstrap(
    scores: np.ndarray, statistic: Statistic, reps: int = 2000, seed: int = 0
) -> np.ndarray:
    """``[reps, ...]`` values of ``statistic`` on stratified resamples of ``scores`` (runs drawn
    with replacement within each game)."""
    scores = np.asarray(scores, dtype=float)
    runs, games = scores.shape
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, runs, size=(reps, runs, games))
    columns = np.arange(games)
    return np.stack([statistic(scores[rows[i], columns]) for i in range(reps)])


def interval_estimates(
    matrices: dict[str, np.ndarray], statistic: Statistic = iqm_and_mean, reps: int = 2000, seed: int = 0
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Point estimates and ``[2, ...]`` 95% percentile intervals of ``statistic`` per matrix."""
    points, intervals = {}, {}
    for name, scores in matrices.items():
        points[name] = np.asarray(statistic(np.asarray(scores, dtype=float)))
        resampled = stratified_bootstrap(scores, statistic, reps=reps, seed=seed)
        intervals[name] = np.percentile(resampled, [2.5, 97.5], axis=0)
    return points, intervals


def performance_profile(scores: np.ndarray, taus: Sequence[float]) -> np.ndarray:
    """Fraction of runs (over all games) with a score above each ``tau``."""
    scores = np.asarray(scores, dtype=float)
    return np.array([np.mean(scores > tau) for tau in taus])


def performance_profiles(
    matrices: dict[str, np.ndarray], taus: Sequence[float], reps: int = 2000, seed: int = 0
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Profiles and their ``[2, len(taus)]`` 95% stratified-bootstrap bands, per matrix."""
    return interval_estimates(matrices, lambda x: performance_profile(x, taus), reps=reps, seed=seed)
