"""``sb3-atari report -f logs/ --out DIR``: PNG plots of every run, a gameplay GIF, an index.html.

- ``learning_curves.png``: episode return over agent timesteps, one panel per env; every episode
  faint, and per group of runs (same algorithm, env and hyperparameters) the smoothed mean over
  its seeds with a 95% band (see :mod:`sb3_atari_ext.analysis.plotting`);
- ``episode_length.png``: the same for episode lengths, in agent steps;
- ``training_metrics.png``: loss, mean/max Q, mean ``|TD error|``, replay priorities (or policy/value
  losses), one panel per env and metric, from the ``metrics.yml`` of every run folder;
- ``curves.csv``: the data behind the learning curves (one row per episode);
- ``evaluations.png``: RL Zoo's periodic evaluation rewards, when ``evaluations.npz`` exists;
- ``gameplay.gif``: the best run's best model (``best_model.zip`` if RL Zoo kept one) playing;
- ``index.html``: all of them on one page, with the runs table.
"""

from __future__ import annotations

import csv
import html
import json
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image
from tqdm.auto import tqdm

from sb3_atari_ext.analysis import plotting
from sb3_atari_ext.analysis.evaluate import _make_env, saved_hyperparams
from sb3_atari_ext.analysis.runs import Run, UnreadableRunFileWarning, find_runs, group_runs, load_model, split_group
from sb3_atari_ext.common.validation import first_line

METRICS = (
    ("loss", "loss"),
    ("policy_loss", "policy loss"),
    ("value_loss", "value loss"),
    ("q_mean", "mean Q"),
    ("q_max", "max Q"),
    ("td_error", "mean |TD error|"),
    ("priority_mean", "mean priority"),
)


def _grouped(runs: list[Run]) -> tuple[dict[str, dict[str, list[Run]]], dict[str, str]]:
    """``{env: {group label: runs}}`` and one colour per group label (the same in every figure)."""
    by_env: dict[str, dict[str, list[Run]]] = defaultdict(dict)
    for key, members in group_runs(runs).items():
        label, env = split_group(key)
        by_env[env][label] = members
    labels = sorted({label for groups in by_env.values() for label in groups})
    return dict(sorted(by_env.items())), plotting.group_colors(labels)


def _counts(by_env: dict[str, dict[str, list[Run]]]) -> dict[str, str]:
    counts: dict[str, int] = defaultdict(int)
    for groups in by_env.values():
        for label, members in groups.items():
            counts[label] += len(members)
    return {label: f"{label} ({n} run{'s' if n > 1 else ''})" for label, n in counts.items()}


def plot_curves(runs: list[Run], attr: str, ylabel: str, path: Path) -> dict[str, dict[str, int]]:
    """One panel per env: every episode of every run (faint) and, per group, the smoothed mean over
    its runs with a 95% band; x in agent timesteps. Returns ``{env: {group: points of its curve}}``."""
    by_env, colors = _grouped(runs)
    title = f"{ylabel}: episodes (faint), smoothed mean over seeds with 95% band"
    fig, axes = plotting.facets(max(1, len(by_env)), title)
    drawn: dict[str, dict[str, int]] = {}
    for ax, (env, groups) in zip(axes, by_env.items(), strict=False):
        drawn[env] = {}
        for label, members in sorted(groups.items()):
            curves = [(r.timesteps, getattr(r, attr)) for r in members if len(r.rewards)]
            drawn[env][label] = plotting.draw_group(ax, curves, colors[label])
        if not any(drawn[env].values()):
            ax.text(0.5, 0.5, "no complete episode yet", ha="center", va="center", transform=ax.transAxes, color="gray")
        ax.set_title(env)
        ax.set_xlabel("agent timesteps")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    plotting.legend_outside(fig, colors, _counts(by_env))
    plotting.save(fig, path)
    return drawn


def plot_metrics(runs: list[Run], path: Path) -> int:
    """Training metrics from ``metrics.yml``: one panel per env and metric, one colour per group
    (the mean over the group's runs). Returns the number of lines drawn."""
    by_env, colors = _grouped(runs)
    records = {id(r): r.metrics() for r in runs}
    present = [(key, label) for key, label in METRICS if any(key in rec for recs in records.values() for rec in recs)]
    panels = [(env, key, label) for env in by_env for key, label in present]
    title = "Training metrics (metrics.yml), mean over each group's runs"
    fig, axes = plotting.facets(max(1, len(panels)), title, max_cols=max(1, min(len(present), 4)))
    drawn = 0
    for ax, (env, key, label) in zip(axes, panels, strict=False):
        for group, members in sorted(by_env[env].items()):
            curves = []
            for run in members:
                points = [(rec["timesteps"], rec[key]) for rec in records[id(run)] if key in rec and "timesteps" in rec]
                if points:
                    xs, ys = zip(*points, strict=True)
                    curves.append((np.array(xs, float), np.array(ys, float)))
            if curves:
                x, mean, *_ = plotting.mean_band(curves)
                ax.plot(x, mean, color=colors[group], lw=1.5, marker="." if len(x) < 20 else None)
                drawn += 1
        ax.set_title(f"{env}: {label}", fontsize="medium")
        ax.set_xlabel("agent timesteps")
        ax.grid(alpha=0.3)
    if not panels:
        axes[0].text(0.5, 0.5, "no metrics.yml yet", ha="center", va="center", transform=axes[0].transAxes, color="gray")
    plotting.legend_outside(fig, colors, _counts(by_env))
    plotting.save(fig, path)
    return drawn


def plot_evaluations(runs: list[Run], path: Path) -> int:
    """RL Zoo's evaluations (``evaluations.npz``): one panel per env, mean over each group's runs."""
    by_env, colors = _grouped(runs)
    envs = {
        env: groups for env, groups in by_env.items() if any(r.evaluations() is not None for g in groups.values() for r in g)
    }
    title = "Evaluation return (evaluations.npz), mean over seeds with 95% band"
    fig, axes = plotting.facets(max(1, len(envs)), title)
    drawn = 0
    for ax, (env, groups) in zip(axes, envs.items(), strict=False):
        for label, members in sorted(groups.items()):
            curves = [e for e in (r.evaluations() for r in members) if e is not None]
            if curves:
                x, mean, low, high = plotting.eval_mean_band(curves)
                ax.plot(x, mean, color=colors[label], marker="o", ms=3)
                ax.fill_between(x, low, high, color=colors[label], alpha=0.2, lw=0)
                drawn += 1
        ax.set_title(env)
        ax.set_xlabel("agent timesteps")
        ax.set_ylabel("mean evaluation return")
        ax.grid(alpha=0.3)
    plotting.legend_outside(fig, colors, _counts(by_env))
    plotting.save(fig, path)
    return drawn


def write_curves_csv(runs: list[Run], path: Path) -> int:
    """The data behind the learning curves: ``group, run, timesteps, episode_return,
    smoothed_return``, one row per episode, ``timesteps`` in agent steps. Returns the row count."""

    rows = 0
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["group", "run", "timesteps", "episode_return", "smoothed_return"])
        for key, members in sorted(group_runs(runs).items()):
            label, env = split_group(key)
            for run in members:
                for t, r, s in zip(run.timesteps, run.rewards, plotting.smooth(run.rewards), strict=True):
                    writer.writerow([f"{label} / {env}", run.name, int(t), f"{r:g}", f"{s:.4g}"])
                    rows += 1
    return rows


def best_run(runs: list[Run]) -> Run | None:
    """The finished run with the highest best (smoothed) episode reward."""
    candidates = [r for r in runs if (r.path / "best_model.zip").is_file() or r.model.is_file()]
    scored = [(r.mean_last(), r) for r in candidates if r.mean_last() is not None]
    if scored:
        return max(scored, key=lambda item: item[0])[1]
    return candidates[0] if candidates else None


def gameplay_gif(run: Run, path: Path, frames: int = 300, seed: int = 0, progress: Any = None) -> int:
    """Record the run's best model playing (``best_model.zip``, else the final model); returns the frame count."""

    model_file = run.path / "best_model.zip"
    if not model_file.is_file():
        model_file = run.model
    env_id = _gym_id(run)
    hyperparams, stats_path = saved_hyperparams(run.path / run.env)
    env = _make_env(env_id, hyperparams, stats_path, seed, render_mode="rgb_array")
    images = []
    try:
        model = load_model(run.algo, model_file, env=env)
        obs = env.reset()
        state, start = None, np.ones(1, dtype=bool)
        for _ in range(frames):
            action, state = model.predict(obs, state=state, episode_start=start, deterministic=False)
            obs, _, start, _ = env.step(action)
            frame = env.render()
            if frame is not None:
                images.append(Image.fromarray(frame_to_uint8(frame)).convert("P", palette=Image.Palette.ADAPTIVE))
            if progress is not None:
                progress()
    finally:
        env.close()
    if images:
        images[0].save(path, save_all=True, append_images=images[1:], duration=40, loop=0)
    return len(images)


def frame_to_uint8(frame: Any, min_size: int = 160) -> np.ndarray:
    """An RGB frame as uint8, enlarged (nearest neighbour) to at least ``min_size`` pixels a side.

    Atari renders 210x160 uint8; MinAtar renders 10x10 floats in [0, 1].
    """
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        frame = (np.clip(frame.astype(np.float64), 0.0, 1.0) * 255).round().astype(np.uint8)
    scale = max(1, -(-min_size // max(min(frame.shape[:2]), 1)))
    return frame.repeat(scale, axis=0).repeat(scale, axis=1) if scale > 1 else frame


def _gym_id(run: Run) -> str:
    """The gym id of a run (RL Zoo writes ``/`` as ``-`` in folder names; ``args.yml`` has the id)."""

    args = run.path / run.env / "args.yml"
    if args.is_file():
        try:
            return dict(yaml.unsafe_load(args.read_text()))["env"]
        except (yaml.YAMLError, KeyError, TypeError):
            pass
    return run.env


def write_report(logs: str, out: str, gif_frames: int = 300, show_progress: bool = True) -> dict[str, Any]:
    """Write the plots, the GIF and ``index.html`` into ``out``; return what was written."""

    runs = find_runs(logs)
    if not runs:
        raise FileNotFoundError(f"no RL Zoo runs (logs/<algo>/<env>_<n>/ with Monitor files) in {logs}")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=4 + gif_frames, desc="report (figures, then GIF frames)", unit="step", disable=not show_progress)
    written: dict[str, Any] = {"runs": [r.summary() for r in runs], "images": {}}
    for name, attr, label in (
        ("learning_curves.png", "rewards", "episode return"),
        ("episode_length.png", "episode_steps", "episode length (agent steps)"),
    ):
        written["images"][name] = plot_curves(runs, attr, label, out_dir / name)
        bar.update(1)
    written["curves_csv_rows"] = write_curves_csv(runs, out_dir / "curves.csv")
    written["images"]["training_metrics.png"] = plot_metrics(runs, out_dir / "training_metrics.png")
    bar.update(1)
    if any(r.evaluations() is not None for r in runs):
        written["images"]["evaluations.png"] = plot_evaluations(runs, out_dir / "evaluations.png")
    bar.update(1)
    best = best_run(runs)
    if best is not None and gif_frames > 0:
        try:
            written["gif_frames"] = gameplay_gif(
                best, out_dir / "gameplay.gif", frames=gif_frames, progress=lambda: bar.update(1)
            )
            written["gif_run"] = best.name
        except ValueError as exc:  # the run's saved hyperparameters or model cannot be read
            warnings.warn(f"no gameplay GIF of {best.name}: {first_line(exc)}", UnreadableRunFileWarning, stacklevel=2)
    bar.close()
    (out_dir / "index.html").write_text(_index_html(written))
    (out_dir / "report.json").write_text(json.dumps(written, indent=2, default=str))
    return written


def _index_html(written: dict[str, Any]) -> str:
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(run[key]))}</td>"
            for key in ("run", "timesteps", "episodes", "best_episode", "mean_last_100", "status")
        )
        + "</tr>"
        for run in written["runs"]
    )
    images = "".join(
        f'<figure><img src="{name}" alt="{name}"><figcaption>{name}</figcaption></figure>' for name in written["images"]
    )
    gif = ""
    if written.get("gif_frames"):
        caption = html.escape(written["gif_run"])
        gif = f'<figure><img src="gameplay.gif" alt="gameplay"><figcaption>{caption} playing</figcaption></figure>'
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>sb3-atari report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px}}
figure{{display:inline-block;margin:1em}}img{{max-width:100%}}</style></head>
<body><h1>sb3-atari report</h1>
<p>The data behind the learning curves: <a href="curves.csv">curves.csv</a>.</p>
<table><tr><th>run</th><th>agent timesteps</th><th>episodes</th><th>best episode</th>
<th>mean of last 100 episodes</th><th>status</th></tr>
{rows}</table>
{images}{gif}
</body></html>
"""
