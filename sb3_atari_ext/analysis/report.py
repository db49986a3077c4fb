"""``sb3-atari report -f logs/ --out DIR``: PNG plots of every run, a gameplay GIF, an index.html.

- ``learning_curves.png``: episode reward over training steps, one panel per env, one line per
  algorithm: the mean over its runs (seeds) with a 95% confidence band;
- ``episode_length.png``: the same for episode lengths;
- ``training_metrics.png``: loss, mean/max Q, mean ``|TD error|``, replay priorities (or policy/value
  losses) over time,
  per run, from the ``metrics.yml`` the RL Zoo bridge writes in every run folder;
- ``evaluations.png``: RL Zoo's periodic evaluation rewards, when ``evaluations.npz`` exists;
- ``gameplay.gif``: the best run's best model (``best_model.zip`` if RL Zoo kept one) playing;
- ``index.html``: all of them on one page, with the runs table.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from sb3_atari_ext.analysis.runs import Run, find_runs, mean_curve

METRIC_PANELS = (
    ("loss", "policy_loss"),
    ("q_mean", "q_max", "value_mean"),
    ("td_error", "value_loss"),
    ("priority_mean", "priority_max"),
    ("episode_reward",),
)


def _figure(n_panels: int, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(n_panels, 2)
    rows = (n_panels + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4 * rows), dpi=90, squeeze=False)
    fig.suptitle(title)
    return fig, list(axes.flat)


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_curves(runs: list[Run], attr: str, ylabel: str, path: Path) -> int:
    """Mean-with-band curves per env and algorithm; returns the number of curves drawn."""
    by_env: dict[str, dict[str, list[Run]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        by_env[run.env][run.algo].append(run)
    fig, axes = _figure(max(1, len(by_env)), f"{ylabel} during training (mean over runs, 95% band)")
    drawn = 0
    for ax, (env, algos) in zip(axes, sorted(by_env.items()), strict=False):
        for algo, group in sorted(algos.items()):
            curve = mean_curve(group, attr)
            if curve is None:
                continue
            x, mean, lower, upper = curve
            (line,) = ax.plot(x, mean, label=f"{algo} ({len(group)} run{'s' if len(group) > 1 else ''})")
            ax.fill_between(x, lower, upper, color=line.get_color(), alpha=0.25)
            drawn += 1
        ax.set_title(env)
        if not ax.lines:
            ax.text(0.5, 0.5, "no complete episode yet", ha="center", va="center", transform=ax.transAxes, color="gray")
        ax.set_xlabel("Monitor steps")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize="small")
    for ax in axes[len(by_env) :]:
        ax.set_visible(False)
    _save(fig, path)
    return drawn


def plot_metrics(runs: list[Run], path: Path) -> int:
    """Training metrics of every run that has ``metrics.yml``; returns the number of lines drawn."""
    fig, axes = _figure(len(METRIC_PANELS), "Training metrics (metrics.yml)")
    drawn = 0
    for ax in axes[len(METRIC_PANELS) :]:
        ax.set_visible(False)
    for ax, keys in zip(axes, METRIC_PANELS, strict=False):
        for run in runs:
            records = run.metrics()
            for key in keys:
                points = [(r["timesteps"], r[key]) for r in records if key in r]
                if len(points) >= 1:
                    xs, ys = zip(*points, strict=True)
                    ax.plot(xs, ys, marker="." if len(points) < 20 else None, label=f"{run.name} {key}")
                    drawn += 1
        ax.set_title(" / ".join(keys))
        ax.set_xlabel("timesteps")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize="x-small")
    _save(fig, path)
    return drawn


def plot_evaluations(runs: list[Run], path: Path) -> int:
    fig, axes = _figure(1, "Evaluation reward (evaluations.npz)")
    drawn = 0
    for run in runs:
        data = run.evaluations()
        if data is not None:
            axes[0].plot(*data, marker="o", label=run.name)
            drawn += 1
    axes[0].set_xlabel("timesteps")
    axes[0].set_ylabel("mean evaluation reward")
    axes[0].grid(alpha=0.3)
    if drawn:
        axes[0].legend(fontsize="small")
    _save(fig, path)
    return drawn


def best_run(runs: list[Run]) -> Run | None:
    """The finished run with the highest best (smoothed) episode reward."""
    candidates = [r for r in runs if (r.path / "best_model.zip").is_file() or r.model.is_file()]
    scored = [(r.best_reward(), r) for r in candidates if r.best_reward() is not None]
    if scored:
        return max(scored, key=lambda item: item[0])[1]
    return candidates[0] if candidates else None


def gameplay_gif(run: Run, path: Path, frames: int = 300, seed: int = 0, progress: Any = None) -> int:
    """Record the run's best model playing (``best_model.zip``, else the final model); returns the frame count."""
    from PIL import Image
    from rl_zoo3.utils import get_saved_hyperparams

    from sb3_atari_ext.analysis.evaluate import _make_env
    from sb3_atari_ext.analysis.runs import load_model

    model_file = run.path / "best_model.zip"
    if not model_file.is_file():
        model_file = run.model
    env_id = _gym_id(run)
    hyperparams, stats_path = get_saved_hyperparams(str(run.path / run.env), norm_reward=False, test_mode=True)
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
    import yaml

    args = run.path / run.env / "args.yml"
    if args.is_file():
        try:
            return dict(yaml.unsafe_load(args.read_text()))["env"]
        except (yaml.YAMLError, KeyError, TypeError):
            pass
    return run.env


def write_report(logs: str, out: str, gif_frames: int = 300, show_progress: bool = True) -> dict[str, Any]:
    """Write the plots, the GIF and ``index.html`` into ``out``; return what was written."""
    from tqdm.auto import tqdm

    runs = find_runs(logs)
    if not runs:
        raise FileNotFoundError(f"no RL Zoo runs (logs/<algo>/<env>_<n>/ with Monitor files) in {logs}")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=4 + gif_frames, desc="report", disable=not show_progress)
    written: dict[str, Any] = {"runs": [r.summary() for r in runs], "images": {}}
    for name, attr, label in (
        ("learning_curves.png", "rewards", "episode reward"),
        ("episode_length.png", "lengths", "episode length"),
    ):
        written["images"][name] = plot_curves(runs, attr, label, out_dir / name)
        bar.update(1)
    written["images"]["training_metrics.png"] = plot_metrics(runs, out_dir / "training_metrics.png")
    bar.update(1)
    if any(r.evaluations() is not None for r in runs):
        written["images"]["evaluations.png"] = plot_evaluations(runs, out_dir / "evaluations.png")
    bar.update(1)
    best = best_run(runs)
    if best is not None and gif_frames > 0:
        written["gif_frames"] = gameplay_gif(best, out_dir / "gameplay.gif", frames=gif_frames, progress=lambda: bar.update(1))
        written["gif_run"] = best.name
    bar.close()
    (out_dir / "index.html").write_text(_index_html(written))
    (out_dir / "report.json").write_text(json.dumps(written, indent=2, default=str))
    return written


def _index_html(written: dict[str, Any]) -> str:
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(run[key]))}</td>"
            for key in ("run", "steps", "episodes", "best_reward", "last_reward", "status")
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
<table><tr><th>run</th><th>steps</th><th>episodes</th><th>best reward</th><th>last reward</th><th>status</th></tr>
{rows}</table>
{images}{gif}
</body></html>
"""
