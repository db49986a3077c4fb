"""Write a benchmark's report: ``report.md``, ``summary.json``, ``scores.csv`` (one row per run),
``curves.csv`` (one row per run and evaluation), ``learning_curves.png`` and
``performance_profile.png`` in ``--out``, from the scores :mod:`sb3_atari_ext.benchmark.aggregate`
computes and the targets :mod:`sb3_atari_ext.benchmark.targets` checks.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from sb3_atari_ext.benchmark.aggregate import BOOTSTRAP_REPS, TAIL_EVALS, RunResult, aggregate, finished_runs, random_scores
from sb3_atari_ext.benchmark.grid import Grid
from sb3_atari_ext.benchmark.plots import plot_learning_curves, plot_performance_profile
from sb3_atari_ext.benchmark.runner import write_json_atomic
from sb3_atari_ext.benchmark.targets import check_all, targets_markdown


def write_report(grid: Grid, out: str | Path, random_episodes: int = 10) -> dict[str, Any]:
    """Aggregate the finished runs of ``grid`` and write every report file; returns the summary."""
    out = Path(out)
    results = finished_runs(grid, out)
    if not results:
        raise FileNotFoundError(f"no finished runs of this grid in {out / 'runs.json'}: run the benchmark first")
    envs = [env for env in grid.envs if any(r.env == env for r in results)]
    random = random_scores(envs, out, episodes=random_episodes)
    summary = aggregate(grid, results, random)
    matrices = summary.pop("_matrices")
    summary["targets"] = check_all(grid.targets, [v.name for v in grid.variants], summary)
    write_json_atomic(out / "summary.json", summary)
    _write_csvs(results, out)

    plot_learning_curves(results, [v.name for v in grid.variants], envs, out / "learning_curves.png")
    if matrices:
        plot_performance_profile(matrices, out / "performance_profile.png", xlabel=_profile_label(summary))
    (out / "report.md").write_text(_markdown(grid, results, summary, bool(matrices)))
    return summary


def _write_csvs(results: list[RunResult], out: Path) -> None:
    with open(out / "scores.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["variant", "env", "seed", "final_return", "wall_time_s", "folder", f"last_{TAIL_EVALS}_mean"])
        for r in results:
            writer.writerow([r.variant, r.env, r.seed, f"{r.final:.4f}", r.wall_time_s, r.folder.as_posix(), f"{r.tail:.4f}"])
    with open(out / "curves.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["variant", "env", "seed", "timesteps", "eval_return"])
        for r in results:
            for t, value in zip(r.timesteps, r.returns, strict=True):
                writer.writerow([r.variant, r.env, r.seed, int(t), f"{value:.4f}"])


def _profile_label(summary: dict[str, Any]) -> str:
    return "normalized score (baseline mean = 1)" if summary["baseline"] else "score - random score"


def _markdown(grid: Grid, results: list[RunResult], summary: dict[str, Any], profile: bool) -> str:
    names = [v.name for v in grid.variants if v.name in summary["algorithms"]]
    lines = [
        "# Benchmark results",
        "",
        f"Budget {grid.budget:,} agent steps per run{_own_budgets(grid)}; final score = mean return of the last "
        f"evaluation ({grid.eval_episodes} episodes, deterministic policy, every {grid.effective_eval_freq:,} steps). "
        f"Runs finished: {len(results)} of {len(grid.runs())}.",
        "",
        "## Per game: mean final return +- 95% CI over seeds (seeds)",
        "",
    ]
    refs = [env for env in summary["envs"] if env in grid.references]
    header = ["env", "random", *names] + (["published"] if refs else [])
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for env in summary["envs"]:
        row = [env, f"{summary['random'][env]:.2f}"]
        for name in names:
            finals = [r.final for r in results if r.variant == name and r.env == env]
            row.append(f"{np.mean(finals):.2f} +- {_ci95(finals):.2f} ({len(finals)})" if finals else "-")
        if refs:
            ref = grid.references.get(env)
            row.append(f"{ref['score']} ({ref.get('label', '')})" if ref else "-")
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Per game: mean final return / mean wall-clock minutes per run", ""]
    lines += ["| " + " | ".join(["env", *names]) + " |", "|" + "---|" * (len(names) + 1)]
    for env in summary["envs"]:
        row = [env]
        for name in names:
            runs = [r for r in results if r.variant == name and r.env == env]
            walls = [r.wall_time_s for r in runs if r.wall_time_s]
            row.append(f"{np.mean([r.final for r in runs]):.2f} / {np.mean(walls) / 60:.0f} min" if runs and walls else "-")
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", f"## Aggregate over games: {summary['normalization']}", ""]
    if summary.get("baseline_not_above_random"):
        games = ", ".join(summary["baseline_not_above_random"])
        lines += [f"The baseline ({grid.baseline}) scores no better than random on {games}: scores normalized by it "
                  "are undefined there, so the aggregate uses score - random.", ""]
    lines += ["| variant | algo | runs | IQM [95% CI] | mean [95% CI] | mean wall time per run |", "|---|---|---|---|---|---|"]
    for name in names:
        entry = summary["algorithms"][name]
        iqm, mean = _interval_text(entry, "iqm"), _interval_text(entry, "mean")
        wall = f"{entry['wall_time_s_mean'] / 60:.1f} min" if entry["wall_time_s_mean"] else "-"
        lines.append(f"| {name} | {entry['algo']} | {entry['runs']} | {iqm} | {mean} | {wall} |")
    lines += [
        "",
        "IQM and mean with stratified-bootstrap 95% CIs (runs resampled within each game, "
        f"{BOOTSTRAP_REPS} resamples) over the games that have a finished run ({', '.join(summary['envs'])}); "
        "a variant needs a run on each of them to get an aggregate.",
    ]
    lines += _tail_markdown(grid, summary, names)
    lines += targets_markdown(summary.get("targets", []), summary["tail_evaluations"])
    lines += _settings_markdown(summary, names)
    lines += _wall_clock_markdown(grid, summary, names)
    lines += ["", "![learning curves](learning_curves.png)"]
    if profile:
        lines += ["", "![performance profile](performance_profile.png)"]
    variants = [v for v in grid.variants if v.params]
    if variants:
        lines += ["", "## Variants", ""]
        lines += [f"- `{v.name}`: `{v.algo}` with `-params {' '.join(v.zoo_params())}`" for v in variants]
    return "\n".join(lines) + "\n"


def _tail_markdown(grid: Grid, summary: dict[str, Any], names: list[str]) -> list[str]:
    k, envs = summary["tail_evaluations"], summary["envs"]
    lines = ["", f"## A steadier score: the mean of each run's last {k} evaluations", ""]
    lines += ["| variant | " + " | ".join(envs) + " | IQM [95% CI] | mean [95% CI] |", "|" + "---|" * (len(envs) + 3)]
    for name in names:
        tail = summary["algorithms"][name]["tail"]
        cells = [f"{tail['per_env'][env]:.2f}" if tail["per_env"][env] is not None else "-" for env in envs]
        iqm, mean = _interval_text(tail, "iqm"), _interval_text(tail, "mean")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {iqm} | {mean} |")
    lines += ["", f"One evaluation of {grid.eval_episodes} episodes is a noisy score: here each run is scored by the mean of "
              f"its last {k} evaluations instead (per-game means over seeds), aggregated as above with "
              f"{summary['tail_normalization']}, the baseline's mean taken of the same score. The tables above keep "
              "the last evaluation."]  # fmt: skip
    return lines


def _settings_markdown(summary: dict[str, Any], names: list[str]) -> list[str]:
    lines = ["", "## Settings: one per variant, on every game and seed?", ""]
    lines += ["| variant | runs with recorded settings | distinct settings | hyperparameters that differ |"]
    lines += ["|---|---|---|---|"]
    for name in names:
        check = summary["algorithms"][name]["settings"]
        differs = ", ".join(f"`{key}`" for key in check["differs"]) or "-"
        lines.append(f"| {name} | {check['recorded']} of {check['runs']} | {check['distinct']} | {differs} |")
    for name in names:
        for key, values in summary["algorithms"][name]["settings"]["differs"].items():
            found = "; ".join(f"{value} ({', '.join(where)})" for value, where in values.items())
            lines.append(f"- {name} `{key}`: {found}")
    lines += ["", "The hyperparameters each run trained with (RL Zoo's `config.yml`, the plugin's yaml with the "
              "variant's `-params`, without `n_timesteps`), kept in `runs.json` when the run finished; runs "
              "finished before the runner kept them, whose folders are gone, have none recorded."]  # fmt: skip
    return lines


def _wall_clock_markdown(grid: Grid, summary: dict[str, Any], names: list[str]) -> list[str]:
    rows = [(name, summary["algorithms"][name]["at_baseline_wall_clock"]) for name in names
            if "at_baseline_wall_clock" in summary["algorithms"][name]]  # fmt: skip
    if not rows:
        return []
    envs = summary["envs"]
    lines = ["", f"## At the baseline's wall-clock: variants with their own budget against {grid.baseline}", ""]
    lines += ["| variant | " + " | ".join(f"{env} ({rows[0][1]['baseline_wall_time_s'][env] / 60:.0f} min)" for env in envs)
              + " | IQM [95% CI] | mean [95% CI] |", "|" + "---|" * (len(envs) + 3)]  # fmt: skip
    for name, entry in rows:
        cells = [f"{entry['per_env'][env]:.2f}" for env in envs]
        iqm, mean = _interval_text(entry, "iqm"), _interval_text(entry, "mean")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {iqm} | {mean} |")
    lines += ["", f"Each run's score is the last evaluation it had reached after {grid.baseline}'s mean wall-clock per run "
              "on that game (in brackets), its own wall-clock read as spent at an even pace over its steps; "
              "normalized and aggregated as above."]  # fmt: skip
    return lines


def _own_budgets(grid: Grid) -> str:
    own = [f"{v.name} {grid.budget_of(v):,}" for v in grid.variants if v.budget is not None]
    return f" (own budgets: {', '.join(own)}; compare them by the wall-clock table)" if own else ""


def _interval_text(entry: dict[str, Any], key: str) -> str:
    """``"1.234 [1.000, 1.500]"`` for ``entry[key]`` and ``entry[key + "_ci"]``; ``"-"`` without one."""
    if key not in entry:
        return "-"
    low, high = entry[f"{key}_ci"]
    return f"{entry[key]:.3f} [{low:.3f}, {high:.3f}]"


def _ci95(values: list[float]) -> float:
    """Half-width of a t-based 95% confidence interval of the mean (0 for one value)."""
    if len(values) < 2:
        return 0.0

    return float(scipy_stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / np.sqrt(len(values)))
