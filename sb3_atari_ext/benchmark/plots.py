"""The benchmark's figures: learning curves per game and the performance profile."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def variant_colors(names: list[str]) -> dict[str, Any]:
    """One colour per variant, the same in every figure (tab10, then tab20)."""
    plt = _pyplot()
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    return {name: cmap(i % cmap.N) for i, name in enumerate(names)}


def mean_curve(curves: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x, mean, low, high)``: the mean over seeds at each evaluation step and a 95% band (t
    interval over the seeds that have that step).

    Runs of different lengths are not cut to the shortest: a step is kept where at least two seeds
    have data (every step for a single-seed variant), so a lone long seed is not shown as a mean.
    """
    from scipy import stats

    xs = np.unique(np.concatenate([x for x, _ in curves]))
    values = [[y[x == point][0] for x, y in curves if point in x] for point in xs]
    counts = np.array([len(v) for v in values])
    keep = counts >= min(2, len(curves))
    xs, values, counts = xs[keep], [v for v, k in zip(values, keep, strict=True) if k], counts[keep]
    mean = np.array([np.mean(v) for v in values])
    half = np.array(
        [
            stats.t.ppf(0.975, n - 1) * np.std(v, ddof=1) / math.sqrt(n) if n > 1 else 0.0
            for v, n in zip(values, counts, strict=True)
        ]
    )
    return xs, mean, mean - half, mean + half


def plot_learning_curves(results: list[Any], variants: list[str], envs: list[str], path: Path) -> None:
    """One panel per game: evaluation return vs agent steps, mean over seeds with a 95% band."""
    plt = _pyplot()
    colors = variant_colors(variants)
    cols = min(len(envs), 3)
    rows = math.ceil(len(envs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    for ax, env in zip(axes.flat, envs, strict=False):
        for name in variants:
            curves = [(r.timesteps, r.returns) for r in results if r.variant == name and r.env == env]
            if not curves:
                continue
            x, mean, low, high = mean_curve(curves)
            label = f"{name} ({len(curves)} seed{'s' if len(curves) > 1 else ''})"
            ax.plot(x, mean, color=colors[name], label=label, linewidth=1.6)
            ax.fill_between(x, low, high, color=colors[name], alpha=0.18, linewidth=0)
        ax.set_title(env, fontsize=10)
        ax.set_xlabel("agent steps")
        ax.set_ylabel("evaluation return")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", frameon=False)
    for ax in list(axes.flat)[len(envs) :]:
        ax.axis("off")
    fig.suptitle("Learning curves: mean over seeds, band = 95% CI", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_performance_profile(matrices: dict[str, np.ndarray], path: Path, xlabel: str) -> None:
    """rliable performance profiles: fraction of runs with normalized score above tau, 95% CIs."""
    from rliable import library as rly
    from rliable import plot_utils

    plt = _pyplot()
    names = list(matrices)
    highest = max(float(np.nanmax(m)) for m in matrices.values())
    taus = np.linspace(min(0.0, min(float(np.nanmin(m)) for m in matrices.values())), max(highest, 1.0) * 1.05, 81)
    profiles, cis = rly.create_performance_profile(matrices, taus)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    colors = variant_colors(names)
    plot_utils.plot_performance_profiles(
        profiles,
        taus,
        performance_profile_cis=cis,
        colors=colors,
        xlabel=xlabel,
        ax=ax,
        labelsize="medium",
        ticklabelsize="small",
    )
    ax.legend(names, fontsize=8, loc="upper right", frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
