"""The report's figures for many runs: grouping, agent-timestep axes, short runs, facets, curves.csv.

A synthetic logs folder (RL Zoo layout: monitor files, config.yml, metrics.yml) with 30 runs of
mixed algorithms, configurations, games and lengths; the real pipeline is tested in
test_evaluate_report.py on real short runs.
"""

import csv

import numpy as np
import pytest
from PIL import Image

from sb3_atari_ext.analysis import plotting
from sb3_atari_ext.analysis.report import write_report
from sb3_atari_ext.analysis.runs import find_runs, group_runs, split_group
from tests.analysis.many_runs import GAMES, write_many_runs


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    return write_many_runs(tmp_path_factory.mktemp("many") / "logs")


def test_runs_are_grouped_by_algorithm_env_and_hyperparameters(logs):
    runs = find_runs(logs)
    assert len(runs) == 30
    groups = {split_group(key) for key in group_runs(runs)}
    labels = {label for label, _ in groups}
    # the two ddqn_prio configurations are two groups, named by what differs; seeds form one group
    assert labels == {"dqn", "a3c", "ddqn_prio [policy=CnnPolicy]", "ddqn_prio [policy=TransformerPolicy]"}
    sizes = {split_group(key): len(members) for key, members in group_runs(runs).items()}
    assert sizes[("ddqn_prio [policy=CnnPolicy]", "BreakoutNoFrameskip-v4")] == 2


def test_x_axis_is_agent_timesteps_and_columns_say_what_they_are(logs):
    runs = {r.name: r for r in find_runs(logs)}
    run = runs["dqn/BreakoutNoFrameskip-v4_1"]
    assert run.frames_per_step == 4  # AtariWrapper's frame skip: the Monitor counts emulator frames
    np.testing.assert_array_equal(run.timesteps, run.frames // 4)
    summary = run.summary()
    assert summary["timesteps"] == int(run.frames[-1] // 4)
    assert summary["best_episode"] == run.rewards.max()
    assert summary["mean_last_100"] == pytest.approx(run.rewards[-100:].mean(), abs=0.01)


def test_short_runs_draw_every_episode_and_a_curve():
    x = np.arange(8) * 100.0
    smoothed = plotting.smooth(np.arange(8.0))
    assert len(smoothed) == 8 and smoothed[0] == 0.0 and smoothed[-1] == pytest.approx(np.mean([4, 5, 6, 7]))
    _, mean, *_ = plotting.mean_band([(x, smoothed)])
    assert len(mean) == 8


def test_mean_is_shown_only_where_two_seeds_have_data():
    long = (np.linspace(0, 1000, 50), np.ones(50))
    short = (np.linspace(0, 400, 20), np.ones(20) * 3)
    x, mean, low, high, n = plotting.mean_band([long, short])
    assert x.max() <= 400 and np.all(n == 2) and np.allclose(mean, 2.0)  # not cut to... nor a lone seed as a mean
    assert np.all(low <= mean) and np.all(high >= mean)


def test_colors_stay_distinct_for_many_groups():
    colors = plotting.group_colors([f"g{i}" for i in range(30)])
    assert len(set(colors.values())) == 30


def test_report_figures_and_curves_csv(logs, tmp_path):
    out = tmp_path / "report"
    written = write_report(str(logs), str(out), gif_frames=0, show_progress=False)
    curves = written["images"]["learning_curves.png"]
    assert set(curves) == {f"{g}NoFrameskip-v4" for g in GAMES}  # one panel per game
    # dqn on Breakout: an 8-episode seed and a long one: the mean only where both have data
    assert 0 < curves["BreakoutNoFrameskip-v4"]["dqn"] < curves["AsterixNoFrameskip-v4"]["dqn"]
    assert curves["BreakoutNoFrameskip-v4"]["ddqn_prio [policy=TransformerPolicy]"] > 0
    # loss and q_mean for every group on every game
    assert written["images"]["training_metrics.png"] == 2 * len(group_runs(find_runs(logs)))
    for name in ("learning_curves.png", "episode_length.png", "training_metrics.png"):
        with Image.open(out / name) as image:
            assert image.size[0] > 1200 and np.asarray(image.convert("L")).std() > 10
    with open(out / "curves.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["group", "run", "timesteps", "episode_return", "smoothed_return"]
    runs = {r.name: r for r in find_runs(logs)}
    short = [row for row in rows if row["run"] == "dqn/BreakoutNoFrameskip-v4_1"]
    assert [int(r["timesteps"]) for r in short] == list(runs["dqn/BreakoutNoFrameskip-v4_1"].timesteps)
    assert len(short) == 8
    assert len(rows) == sum(len(r.rewards) for r in runs.values())
