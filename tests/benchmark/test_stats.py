"""The benchmark's statistics reproduce rliable 1.2.0 (recorded once on fixed score matrices)."""

import json
from pathlib import Path

import numpy as np
import pytest

from sb3_atari_ext.benchmark import stats

RECORDED = json.loads((Path(__file__).parent / "data" / "rliable_1.2.0_figures.json").read_text())
MATRICES = {name: np.array(entry["scores"]) for name, entry in RECORDED["matrices"].items()}


@pytest.mark.parametrize("name", sorted(MATRICES))
def test_point_estimates_equal_rliables(name):
    entry = RECORDED["matrices"][name]
    assert stats.iqm(MATRICES[name]) == pytest.approx(entry["iqm"], abs=1e-6)
    assert stats.mean(MATRICES[name]) == pytest.approx(entry["mean"], abs=1e-6)
    profile = stats.performance_profile(MATRICES[name], RECORDED["taus"])
    assert profile == pytest.approx(entry["profile"], abs=1e-6)


@pytest.mark.parametrize("name", sorted(MATRICES))
def test_stratified_bootstrap_intervals_match_rliables_within_bootstrap_noise(name):
    entry = RECORDED["matrices"][name]
    _, intervals = stats.interval_estimates({name: MATRICES[name]}, reps=20000, seed=1)
    scale = np.ptp(MATRICES[name])
    # two independent 20,000-resample estimates of a percentile differ by ~1% of the range
    assert intervals[name][:, 0] == pytest.approx(entry["iqm_ci"], abs=0.02 * scale)
    assert intervals[name][:, 1] == pytest.approx(entry["mean_ci"], abs=0.02 * scale)
    _, bands = stats.performance_profiles({name: MATRICES[name]}, RECORDED["taus"], reps=20000, seed=1)
    runs = MATRICES[name].size
    assert bands[name][0] == pytest.approx(entry["profile_lo"], abs=1.01 / runs)  # one run's worth
    assert bands[name][1] == pytest.approx(entry["profile_hi"], abs=1.01 / runs)


def test_bootstrap_resamples_runs_within_each_game():
    scores = np.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0]])
    resampled = stats.stratified_bootstrap(scores, lambda x: x.copy(), reps=200)
    assert set(np.unique(resampled[:, :, 0])) <= {0.0, 1.0, 2.0}  # game 0 only ever draws game 0's runs
    assert set(np.unique(resampled[:, :, 1])) <= {10.0, 11.0, 12.0}
    assert len(np.unique(resampled[:, :, 0])) == 3


def test_iqm_is_the_mean_of_the_middle_half():
    scores = np.arange(8, dtype=float).reshape(4, 2)  # entries 0..7: middle half 2, 3, 4, 5
    assert stats.iqm(scores) == pytest.approx(3.5)


def test_a_baseline_no_better_than_random_is_named_and_scores_fall_back_to_score_minus_random():
    from pathlib import Path

    from sb3_atari_ext.benchmark.aggregate import RunResult, aggregate
    from sb3_atari_ext.benchmark.grid import Grid, Variant

    grid = Grid(variants=[Variant("dqn", "dqn"), Variant("ours", "ours")], envs=["A", "B"], seeds=2, baseline="dqn")

    def result(variant, env, seed, final):
        return RunResult(variant, env, seed, Path("."), np.array([1, 2]), np.array([0.0, final]), 60.0)

    finals = {("dqn", "A"): (2.0, 4.0), ("ours", "A"): (6.0, 8.0), ("dqn", "B"): (0.5, 0.5), ("ours", "B"): (1.0, 3.0)}
    results = [result(v, e, s, f) for (v, e), pair in finals.items() for s, f in enumerate(pair)]
    summary = aggregate(grid, results, {"A": 1.0, "B": 0.5})  # dqn's mean on B is random's
    assert summary["baseline_not_above_random"] == ["B"] and summary["normalization"] == "score - random"
    expected = stats.iqm(np.array([[5.0, 0.5], [7.0, 2.5]]))  # ours: score - random, runs x games
    assert summary["algorithms"]["ours"]["iqm"] == pytest.approx(expected)
    fine = aggregate(grid, results, {"A": 1.0, "B": 0.0})
    assert fine["baseline_not_above_random"] == [] and fine["baseline"] == "dqn"
    assert fine["algorithms"]["dqn"]["mean"] == pytest.approx(1.0)


def test_a_variant_with_its_own_budget_is_scored_at_the_baselines_wall_clock():
    from pathlib import Path

    from sb3_atari_ext.benchmark.aggregate import RunResult, aggregate, score_at_wall_clock
    from sb3_atari_ext.benchmark.grid import Grid, Variant

    # evaluations at 250, 500, 750, 1000 of a 1,000-step budget that took 400 s
    fast = RunResult("pqn", "A", 0, Path("."), np.array([250, 500, 750, 1000]), np.array([1.0, 2.0, 3.0, 4.0]), 400.0)
    assert score_at_wall_clock(fast, 200.0, 1000) == 2.0  # half the wall-clock: the step-500 evaluation
    assert score_at_wall_clock(fast, 199.0, 1000) == 1.0
    assert score_at_wall_clock(fast, 900.0, 1000) == 4.0  # beyond its own wall-clock: its final score
    assert score_at_wall_clock(fast, 50.0, 1000) is None  # no evaluation by then
    assert score_at_wall_clock(RunResult("pqn", "A", 0, Path("."), fast.timesteps, fast.returns, None), 1.0, 1000) is None

    grid = Grid(variants=[Variant("dqn", "dqn"), Variant("pqn", "pqn", budget=1000)], envs=["A", "B"], seeds=1,
                baseline="dqn", budget=100)  # fmt: skip

    def dqn(env, final, wall):
        return RunResult("dqn", env, 0, Path("."), np.array([50, 100]), np.array([0.0, final]), wall)

    slow_b = RunResult("pqn", "B", 0, Path("."), np.array([250, 500, 750, 1000]), np.array([5.0, 6.0, 7.0, 9.0]), 800.0)
    summary = aggregate(grid, [dqn("A", 2.0, 200.0), dqn("B", 3.0, 400.0), fast, slow_b], {"A": 0.0, "B": 1.0})
    entry = summary["algorithms"]["pqn"]["at_baseline_wall_clock"]
    # A: 200 s of 400 s -> step 500 -> 2.0; B: 400 s of 800 s -> step 500 -> 6.0
    assert entry["per_env"] == {"A": 2.0, "B": 6.0}
    assert entry["iqm"] == pytest.approx(stats.iqm(np.array([[(2.0 - 0.0) / 2.0, (6.0 - 1.0) / 2.0]])))
    assert "at_baseline_wall_clock" not in summary["algorithms"]["dqn"]


def test_the_steadier_score_averages_each_runs_last_evaluations_and_is_normalized_by_the_baselines_own():
    from pathlib import Path

    from sb3_atari_ext.benchmark.aggregate import TAIL_EVALS, RunResult, aggregate
    from sb3_atari_ext.benchmark.grid import Grid, Variant
    from sb3_atari_ext.benchmark.report import _markdown

    assert TAIL_EVALS == 3
    grid = Grid(variants=[Variant("dqn", "dqn"), Variant("ours", "ours")], envs=["A", "B"], seeds=2, baseline="dqn")
    steps = np.array([1, 2, 3, 4])
    curves = {  # the last evaluation of "ours" on A is a dip; its last three are 9, 9, 3
        ("dqn", "A"): ([0.0, 2.0, 2.0, 2.0], [0.0, 4.0, 4.0, 4.0]),
        ("ours", "A"): ([0.0, 9.0, 9.0, 3.0], [0.0, 9.0, 9.0, 3.0]),
        ("dqn", "B"): ([5.0, 1.0, 2.0, 3.0], [5.0, 1.0, 2.0, 3.0]),
        ("ours", "B"): ([0.0, 4.0, 4.0, 4.0], [0.0, 2.0, 2.0, 2.0]),
    }
    results = [RunResult(v, e, seed, Path("."), steps, np.array(curve), 60.0)
               for (v, e), pair in curves.items() for seed, curve in enumerate(pair)]  # fmt: skip
    assert results[2].tail == pytest.approx(7.0) and results[2].final == 3.0
    summary = aggregate(grid, results, {"A": 0.0, "B": 0.0})
    tail = summary["algorithms"]["ours"]["tail"]
    assert tail["per_env"] == {"A": pytest.approx(7.0), "B": pytest.approx(3.0)}
    # normalized by dqn's mean of its own last-three means: A 3.0, B 2.0
    expected = np.array([[7.0 / 3.0, 4.0 / 2.0], [7.0 / 3.0, 2.0 / 2.0]])
    assert tail["iqm"] == pytest.approx(stats.iqm(expected)) and tail["mean"] == pytest.approx(expected.mean())
    assert summary["algorithms"]["dqn"]["tail"]["mean"] == pytest.approx(1.0)
    # the headline score is unchanged: the last evaluation (ours on A: 3.0 against dqn's 3.0)
    assert summary["algorithms"]["ours"]["per_env"]["A"] == pytest.approx(3.0)
    report = _markdown(grid, results, summary, profile=False)
    assert "## A steadier score: the mean of each run's last 3 evaluations" in report
    assert "| ours | 7.00 | 3.00 |" in report
