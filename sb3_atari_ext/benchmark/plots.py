"""The benchmark's figures: learning curves per game and the performance profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sb3_atari_ext.analysis import plotting
from sb3_atari_ext.benchmark.stats import performance_profiles


def plot_learning_curves(results: list[Any], variants: list[str], envs: list[str], path: Path) -> None:
    """One panel per game: evaluation return vs agent steps, mean over seeds with a 95% band
    (the conventions of :mod:`sb3_atari_ext.analysis.plotting`, as in ``sb3-atari report``)."""
    colors = plotting.group_colors(variants)
    fig, axes = plotting.facets(len(envs), "Evaluation return: mean over seeds, band = 95% CI", panel_size=(4.6, 3.4))
    seeds: dict[str, int] = {}
    for ax, env in zip(axes, envs, strict=False):
        for name in variants:
            curves = [(r.timesteps, r.returns) for r in results if r.variant == name and r.env == env]
            if not curves:
                continue
            seeds[name] = max(seeds.get(name, 0), len(curves))
            x, mean, low, high = plotting.eval_mean_band(curves)
            ax.plot(x, mean, color=colors[name], linewidth=1.6)
            ax.fill_between(x, low, high, color=colors[name], alpha=0.18, linewidth=0)
        ax.set_title(env, fontsize=10)
        ax.set_xlabel("agent timesteps")
        ax.set_ylabel("evaluation return")
        ax.grid(alpha=0.3)
    labels = {name: f"{name} ({n} seed{'s' if n > 1 else ''})" for name, n in seeds.items()}
    plotting.legend_outside(fig, {n: colors[n] for n in variants if n in seeds}, labels)
    plotting.save(fig, path)


def plot_performance_profile(matrices: dict[str, np.ndarray], path: Path, xlabel: str) -> None:
    """Performance profiles: fraction of runs with a normalized score above tau, with 95%
    stratified-bootstrap bands (:func:`sb3_atari_ext.benchmark.stats.performance_profiles`)."""

    plt = plotting.pyplot()
    names = list(matrices)
    highest = max(float(np.nanmax(m)) for m in matrices.values())
    taus = np.linspace(min(0.0, min(float(np.nanmin(m)) for m in matrices.values())), max(highest, 1.0) * 1.05, 81)
    profiles, bands = performance_profiles(matrices, taus)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    colors = plotting.group_colors(names)
    for name in names:
        ax.plot(taus, profiles[name], color=colors[name], linewidth=1.8, label=name)
        ax.fill_between(taus, bands[name][0], bands[name][1], color=colors[name], alpha=0.18, linewidth=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of runs with score > tau")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right", frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
