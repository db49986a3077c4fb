"""A grid file's ``targets``: parsed with one-line errors, checked by the report on both scores."""

from pathlib import Path

import numpy as np
import pytest

from sb3_atari_ext.benchmark.aggregate import RunResult, aggregate
from sb3_atari_ext.benchmark.grid import GridError, build_grid
from sb3_atari_ext.benchmark.targets import Target, check, check_all, targets_markdown
from tests.conftest import run

GRID = "budget: 1000\nseeds: 2\nenvs: [A-v0, B-v0]\nbaseline: dqn\n"
GRID += "variants:\n  dqn: {}\n  fancy: {algo: ddqn_prio}\n  other: {}\n"


def test_targets_of_a_grid_file(tmp_path):
    path = tmp_path / "grid.yml"
    path.write_text(
        GRID + "targets:\n  - {variant: fancy, iqm_at_least: 1.5}\n  - {variant: fancy, iqm_above: other}\n"
        "  - {variant: fancy, mean_at_least: dqn}\n  - {variant: fancy, mean_at_least: 10, env: B-v0}\n"
    )
    grid = build_grid(path)
    assert grid.targets == [
        Target("fancy", "iqm_at_least", 1.5),
        Target("fancy", "iqm_above", "other"),
        Target("fancy", "mean_at_least", "dqn"),
        Target("fancy", "mean_at_least", 10.0, "B-v0"),
    ]
    assert [t.text("dqn") for t in grid.targets] == [
        "fancy: IQM >= 1.5 x dqn",
        "fancy: IQM above other's",
        "fancy: mean over seeds >= dqn's on every game",
        "fancy: mean over seeds >= 10 on B-v0",
    ]
    # a grid of some of the file's variants keeps the targets: the report checks those it can
    assert build_grid(path, algos=["dqn", "other"]).targets == grid.targets


@pytest.mark.parametrize(
    "target, message",
    [
        ("{variant: fancy, iqm_at_least: 1.5, iqm_above: other}", "targets[0] has 2 of iqm_at_least"),
        ("{variant: fancy, mean_above: dqn}", "targets[0] has an unknown key 'mean_above'"),
        ("{variant: fancy}", "targets[0] has 0 of iqm_at_least"),
        ("{variant: fancyy, iqm_at_least: 1.5}", "targets[0]: 'fancyy' is not a variant of the grid (dqn, fancy, other)"),
        ("{variant: fancy, iqm_above: nobody}", "targets[0]: 'nobody' is not a variant of the grid"),
        ("{variant: fancy, iqm_at_least: dqn}", "targets[0]: iqm_at_least='dqn' is not a number"),
        ("{variant: fancy, iqm_above: 1.2}", "targets[0]: iqm_above=1.2 is not a variant name"),
        ("{variant: fancy, mean_at_least: [1]}", "targets[0]: mean_at_least=[1] is neither a number nor a variant name"),
        ("{variant: fancy, mean_at_least: 3, env: C-v0}", "targets[0]: env='C-v0' is not one of the grid's"),
        ("{variant: fancy, iqm_at_least: 1.2, env: A-v0}", "targets[0]: env='A-v0' applies to mean_at_least only"),
    ],
)
def test_a_target_that_cannot_be_checked_is_one_error(tmp_path, target, message):
    path = tmp_path / "grid.yml"
    path.write_text(GRID + f"targets:\n  - {target}\n")
    with pytest.raises(GridError) as raised:
        build_grid(path)
    assert message in str(raised.value) and str(raised.value).startswith(f"{path}: ")
    assert "\n" not in str(raised.value)


def test_a_bad_target_stops_the_benchmark_command_before_training(tmp_path):
    (tmp_path / "grid.yml").write_text(GRID.replace("A-v0, B-v0", "MinAtar/Breakout-v1") + "targets: {fancy: 1}\n")
    result = run(["-m", "sb3_atari_ext.cli", "benchmark", "--grid", "grid.yml", "--out", "report"], cwd=tmp_path, check=False)
    assert result.returncode == 2 and result.stderr.strip() == "error: grid.yml: targets must be a list of mappings, " \
        "e.g. - {variant: rainbow, iqm_at_least: 1.5}"  # fmt: skip
    assert not (tmp_path / "logs").exists()


def _summary(finals: dict[tuple[str, str], list[list[float]]]):
    """A real report summary of runs whose evaluations are given per (variant, env), one list per seed."""
    grid = build_grid(algos=["dqn", "fancy", "other"], envs=["A-v0", "B-v0"], seeds=2, baseline="dqn")
    results = [
        RunResult(variant, env, seed, Path("."), np.arange(1, len(returns) + 1) * 100, np.array(returns, dtype=float), 60.0)
        for (variant, env), seeds in finals.items()
        for seed, returns in enumerate(seeds)
    ]
    return grid, aggregate(grid, results, random={"A-v0": 0.0, "B-v0": 0.0})


def test_targets_are_met_or_missed_on_each_score():
    # fancy: twice dqn on A, equal on B by the last evaluation; its mean of the last 3 is below dqn's on B
    grid, summary = _summary({
        ("dqn", "A-v0"): [[1, 1, 2], [2, 2, 2]], ("dqn", "B-v0"): [[4, 4, 4], [4, 4, 4]],
        ("fancy", "A-v0"): [[4, 4, 4], [4, 4, 4]], ("fancy", "B-v0"): [[1, 1, 4], [1, 1, 4]],
        ("other", "A-v0"): [[2, 2, 2], [2, 2, 2]], ("other", "B-v0"): [[4, 4, 4], [4, 4, 4]],
    })  # fmt: skip
    every_game = Target("fancy", "mean_at_least", "dqn")
    assert check(every_game, summary, "final") == {"status": "met", "detail": "A 4.00 vs 2.00; B 4.00 vs 4.00"}
    assert check(every_game, summary, "tail") == {"status": "missed", "detail": "B 2.00 vs 4.00"}
    one_game = Target("fancy", "mean_at_least", 5.0, "A-v0")
    assert check(one_game, summary, "final") == {"status": "missed", "detail": "A 4.00 vs 5.00"}
    # normalized by dqn per game: fancy 2.0 on A and 1.0 on B (final), other 1.0 and 1.0
    assert summary["algorithms"]["fancy"]["iqm"] == pytest.approx(1.5)
    assert check(Target("fancy", "iqm_at_least", 1.5), summary, "final") == {"status": "met", "detail": "1.500 vs 1.5"}
    assert check(Target("fancy", "iqm_above", "other"), summary, "final") == {"status": "met", "detail": "1.500 vs 1.000"}
    assert check(Target("other", "iqm_above", "fancy"), summary, "final")["status"] == "missed"
    tail_iqm = summary["algorithms"]["fancy"]["tail"]["iqm"]  # A 4 / (5/3 mean of dqn's), B 2 / 4
    assert tail_iqm == pytest.approx((4 / (5 / 3) + 0.5) / 2)
    tail = check(Target("fancy", "iqm_at_least", 1.5), summary, "tail")
    assert tail == {"status": "missed", "detail": f"{tail_iqm:.3f} vs 1.5"}


def test_a_target_without_its_runs_is_not_yet_and_the_report_shows_every_target():
    grid, summary = _summary({
        ("dqn", "A-v0"): [[2]], ("dqn", "B-v0"): [[4]], ("fancy", "A-v0"): [[4]],
        ("other", "A-v0"): [[1]], ("other", "B-v0"): [[4]],
    })  # fmt: skip
    assert check(Target("fancy", "iqm_at_least", 1.0), summary, "final") == {
        "status": "not yet", "detail": "no aggregate for fancy (a run on every game)"}  # fmt: skip
    every_game = check(Target("fancy", "mean_at_least", "dqn"), summary, "final")
    assert every_game == {"status": "not yet", "detail": "no runs on B-v0; A 4.00 vs 2.00"}  # and what A gives so far
    assert check(Target("fancy", "mean_at_least", "dqn", "A-v0"), summary, "tail")["status"] == "met"
    # split_q is not in this report: its target is left out
    targets = [Target("fancy", "mean_at_least", "dqn"), Target("other", "iqm_at_least", 1.0)]
    targets.append(Target("split_q", "iqm_at_least", 1.0))
    checked = check_all(targets, [v.name for v in grid.variants], summary)
    assert [entry["target"] for entry in checked] == ["fancy: mean over seeds >= dqn's on every game", "other: IQM >= 1 x dqn"]
    lines = targets_markdown(checked, 3)
    assert lines[1] == "## Targets of the grid file"
    assert lines[3] == "| target | last evaluation | mean of the last 3 evaluations |"
    not_yet = "**not yet** (no runs on B-v0; A 4.00 vs 2.00)"
    assert lines[5] == f"| fancy: mean over seeds >= dqn's on every game | {not_yet} | {not_yet} |"
    assert lines[6] == "| other: IQM >= 1 x dqn | **missed** (0.750 vs 1) | **missed** (0.750 vs 1) |"
    assert targets_markdown([], 3) == []
