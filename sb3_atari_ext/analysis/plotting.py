"""One plotting module for ``sb3-atari report``, the dashboard and ``sb3-atari benchmark``.

Conventions every figure follows:

- the x-axis is **agent timesteps** (what ``-n`` counts), never emulator frames;
- every episode is drawn (faint), with a smoothed curve over it whose window shrinks for short
  runs (:func:`smooth`), so a run of 8 episodes still shows 8 points and a line;
- runs are **grouped** by algorithm, env and hyperparameters; a group's curve is the mean over
  its runs where at least two have data (:func:`mean_band`), never cut to the shortest run;
- one panel per game (facets), one colour per group kept across all figures
  (:func:`group_colors`), legends outside the data.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

SMOOTH_WINDOW = 10


def smooth(values: Sequence[float] | np.ndarray, window: int = SMOOTH_WINDOW) -> np.ndarray:
    """Trailing moving average, one value per input value: the window is ``window`` episodes, or
    half the run for shorter runs, and the first values average what exists so far."""
    y = np.asarray(values, dtype=np.float64)
    if len(y) == 0:
        return y
    k = max(1, min(window, len(y) // 2 or 1))
    sums = np.cumsum(np.insert(y, 0, 0.0))
    counts = np.minimum(np.arange(1, len(y) + 1), k)
    return (sums[1:] - sums[np.maximum(np.arange(1, len(y) + 1) - k, 0)]) / counts


def mean_band(
    curves: list[tuple[np.ndarray, np.ndarray]], points: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x, mean, low, high, n)`` of several runs' curves on a common grid: at each x, the mean of
    the runs whose data cover it, with a 95% t-interval, and how many runs that is. Where fewer than
    two runs have data (but the group has two or more) nothing is shown; a single run is itself."""

    curves = [(np.asarray(x, float), np.asarray(y, float)) for x, y in curves if len(x) > 0]
    if not curves:
        empty = np.zeros(0)
        return empty, empty, empty, empty, empty
    if len(curves) == 1:
        x, y = curves[0]
        return x, y, y, y, np.ones_like(y)
    grid = np.linspace(min(x[0] for x, _ in curves), max(x[-1] for x, _ in curves), points)
    values = np.full((len(curves), len(grid)), np.nan)
    for i, (x, y) in enumerate(curves):
        inside = (grid >= x[0]) & (grid <= x[-1])
        values[i, inside] = np.interp(grid[inside], x, y)
    n = np.sum(~np.isnan(values), axis=0)
    keep = n >= 2
    grid, values, n = grid[keep], values[:, keep], n[keep]
    mean = np.nanmean(values, axis=0) if len(grid) else np.zeros(0)
    std = np.nanstd(values, axis=0, ddof=1) if len(grid) else np.zeros(0)
    half = np.array([stats.t.ppf(0.975, k - 1) * s / math.sqrt(k) for s, k in zip(std, n, strict=True)])
    return grid, mean, mean - half, mean + half, n.astype(float)


def eval_mean_band(curves: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x, mean, low, high)`` over runs evaluated at the same steps (the benchmark's evaluation
    points): a step is kept where at least two runs have it (every step for a single run)."""

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


def group_colors(names: Sequence[str]) -> dict[str, str]:
    """One colour (``#rrggbb``) per group name, in the order given, the same in every figure:
    tab10 for up to 10 groups, tab20 up to 20, then evenly spaced hues."""

    names = list(dict.fromkeys(names))
    if len(names) <= 20:
        import matplotlib

        cmap = matplotlib.colormaps["tab10" if len(names) <= 10 else "tab20"]
        rgb = [cmap(i)[:3] for i in range(len(names))]
    else:
        rgb = [colorsys.hsv_to_rgb(i / len(names), 0.75, 0.85 - 0.25 * (i % 2)) for i in range(len(names))]
    return {name: "#" + "".join(f"{int(255 * c):02x}" for c in color) for name, color in zip(names, rgb, strict=True)}


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def facets(
    n_panels: int, title: str, panel_size: tuple[float, float] = (5.5, 3.6), max_cols: int = 3
) -> tuple[Any, list[Any]]:
    """A figure with one panel per facet (game or metric), at most ``max_cols`` per row."""
    plt = pyplot()
    cols = max(1, min(n_panels, max_cols))
    rows = max(1, math.ceil(n_panels / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(panel_size[0] * cols, panel_size[1] * rows), dpi=90, squeeze=False)
    fig.suptitle(title)
    flat = list(axes.flat)
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def legend_outside(fig: Any, colors: dict[str, str], labels: dict[str, str] | None = None) -> None:
    """One legend for the whole figure, to the right of the panels (never over the data)."""
    from matplotlib.lines import Line2D

    if not colors:
        return
    handles = [Line2D([0], [0], color=c, lw=2) for c in colors.values()]
    texts = [(labels or {}).get(name, name) for name in colors]
    fig.legend(handles, texts, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small", frameon=False)


def save(fig: Any, path: Any) -> None:
    fig.tight_layout(rect=(0, 0, 1, 0.97))  # room for the title above the panels
    fig.savefig(path, bbox_inches="tight")
    pyplot().close(fig)


def draw_group(ax: Any, curves: list[tuple[np.ndarray, np.ndarray]], color: str, raw: bool = True) -> int:
    """Draw one group on ``ax``: each run's episodes (faint, when ``raw``), and the smoothed mean
    over runs with its band. Returns the number of points of the mean curve."""
    for x, y in curves:
        if raw:
            ax.plot(x, y, color=color, alpha=0.18, lw=0.8, marker="." if len(x) < 30 else None, ms=3)
    smoothed = [(x, smooth(y)) for x, y in curves]
    x, mean, low, high, _ = mean_band(smoothed)
    if len(x):
        ax.plot(x, mean, color=color, lw=2, marker="o" if len(x) < 3 else None)
        if len(curves) > 1:
            ax.fill_between(x, low, high, color=color, alpha=0.12, lw=0)
    return len(x)
