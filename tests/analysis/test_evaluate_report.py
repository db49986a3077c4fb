"""Evaluation against random and human play, and the report, on real small RL Zoo runs."""

import json
import math

import numpy as np
import pytest
import yaml
from PIL import Image

from sb3_atari_ext.analysis.evaluate import ATARI_SCORES, EpisodeStats, atari_game, human_normalized, play
from tests.conftest import copy_cartpole_runs, run, zoo_train

pytestmark = pytest.mark.slow  # real subprocesses, servers or browsers

ATARI = "SpaceInvadersNoFrameskip-v4"
PONG = "PongNoFrameskip-v4"


def test_human_normalized_score_follows_the_published_formula():
    assert len(ATARI_SCORES) == 57
    random_score, human_score = ATARI_SCORES["SpaceInvaders"]
    assert (random_score, human_score) == (148.0, 1668.7)
    assert human_normalized(ATARI, random_score) == 0.0
    assert human_normalized(ATARI, human_score) == pytest.approx(100.0)
    assert human_normalized("BreakoutNoFrameskip-v4", 16.1) == pytest.approx(100 * (16.1 - 1.7) / (30.5 - 1.7))
    assert atari_game("ALE/MsPacman-v5") == "MsPacman" and atari_game("UpNDownNoFrameskip-v4") == "UpNDown"
    assert human_normalized("CartPole-v1", 500.0) is None


def test_episode_statistics_match_a_hand_computation():
    stats = EpisodeStats.of("PongNoFrameskip-v4", [-21.0, -19.0, -14.0], [800, 900, 1300])
    assert stats.mean == pytest.approx(-18.0)
    assert stats.std == pytest.approx(math.sqrt((9 + 1 + 16) / 3))
    assert (stats.min, stats.max, stats.mean_length, stats.episodes) == (-21.0, -14.0, 1000.0, 3)
    assert stats.human_normalized == pytest.approx(100 * (-18.0 + 20.7) / (14.6 + 20.7))


def test_both_agents_face_the_same_seeded_starts():
    import ale_py
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_atari_env

    gym.register_envs(ale_py)

    def make_env(seed):  # Monitor inside AtariWrapper (random no-op starts)
        return make_atari_env("PongNoFrameskip-v4", n_envs=1, seed=seed)

    firsts = {"a": [], "b": []}

    def recorder(name, action):
        def act(obs, state, start, i, env):
            if start[0] and len(firsts[name]) == i:
                firsts[name].append(obs.copy())
            return np.array([action]), None

        return act

    # two different policies (always NOOP, always FIRE) get the same start for episode i
    returns, lengths = play(make_env, 2, seed=5, act=recorder("a", 0))
    play(make_env, 2, seed=5, act=recorder("b", 1))
    assert len(returns) == 2 and all(n > 0 for n in lengths)
    for i in range(2):
        np.testing.assert_array_equal(firsts["a"][i], firsts["b"][i])


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cartpole_runs):
    """Two seeds of ddqn_prio on CartPole and one on Pong (short whole games), trained through RL Zoo."""
    folder = copy_cartpole_runs(cartpole_runs, tmp_path_factory.mktemp("runs"))
    zoo_train(folder, "ddqn_prio", PONG, 300, "-params", "learning_starts:100", "buffer_size:1000")
    return folder


def test_every_rl_zoo_run_writes_metrics(runs):
    records = yaml.safe_load((runs / "logs" / "ddqn_prio" / "CartPole-v1_1" / "metrics.yml").read_text())
    assert records[-1]["timesteps"] >= 1000 and {"loss", "q_mean", "td_error", "episode_reward"} <= set(records[-1])


def test_evaluate_against_random_on_the_same_seeds(runs):
    args = [
        "-m",
        "sb3_atari_ext.cli",
        "evaluate",
        "--algo",
        "ddqn_prio",
        "--env",
        PONG,
        "-f",
        "logs",
        "--episodes",
        "2",
        "--seed",
        "3",
        "--json",
    ]
    result = json.loads(run(args, cwd=runs).stdout)
    assert result["seeds"] == [3, 4]
    for name in ("agent", "random"):
        stats = result[name]
        assert stats["episodes"] == 2 and stats["mean"] == pytest.approx(np.mean(stats["returns"]))
        assert stats["std"] == pytest.approx(np.std(stats["returns"])) and stats["max"] == max(stats["returns"])
        assert stats["human_normalized"] == pytest.approx(100 * (stats["mean"] + 20.7) / (14.6 + 20.7))
        assert all(length > 100 for length in stats["lengths"])  # whole games, not single lives
    # the random agent's games are reproducible: the same seeds give the same games in-process
    from sb3_atari_ext.analysis.evaluate import _make_env, format_table

    def uniform(obs, state, start, i, env):
        space = env.action_space
        space.seed(int(rngs.setdefault(i, np.random.default_rng(3 + i)).integers(2**31)))
        return np.array([space.sample()]), None

    rngs = {}
    hyperparams = {"env_wrapper": ["stable_baselines3.common.atari_wrappers.AtariWrapper"], "frame_stack": 4}
    returns, lengths = play(lambda seed: _make_env(PONG, dict(hyperparams), None, seed), 1, 3, uniform)
    assert (returns[0], lengths[0]) == (result["random"]["returns"][0], result["random"]["lengths"][0])
    table = format_table(result)
    assert "human-norm %" in table and "published scores: random -20.7, human 14.6" in table
    random_row = next(line for line in table.splitlines() if line.startswith("random"))
    assert f"{result['random']['mean']:.2f}" in random_row


def test_evaluate_missing_run_is_a_clear_error(tmp_path):
    result = run(
        ["-m", "sb3_atari_ext.cli", "evaluate", "--algo", "ddqn_prio", "--env", ATARI, "-f", "nothing"],
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2 and result.stderr.startswith("error: no run of ddqn_prio")


def _not_blank(path):
    image = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    return image.std() > 10  # axes, curves and text, not a uniform canvas


def test_report_writes_plots_gif_and_index(runs):
    result = run(["-m", "sb3_atari_ext.cli", "report", "-f", "logs", "--out", "report", "--gif-frames", "20"], cwd=runs)
    out = runs / "report"
    written = json.loads((out / "report.json").read_text())
    # CartPole: 2 seeds of one configuration -> one group, one mean curve (Pong: no whole game yet)
    curves = written["images"]["learning_curves.png"]
    assert list(curves["CartPole-v1"]) == ["ddqn_prio"] and curves["CartPole-v1"]["ddqn_prio"] > 2
    assert written["images"]["training_metrics.png"] >= 4
    assert written["curves_csv_rows"] == sum(r["episodes"] for r in written["runs"])
    for name in ("learning_curves.png", "episode_length.png", "training_metrics.png"):
        with Image.open(out / name) as image:
            assert image.format == "PNG" and image.size[0] > 400
        assert _not_blank(out / name)
    with Image.open(out / "gameplay.gif") as gif:
        assert gif.format == "GIF" and written["gif_frames"] == 20 and 1 < gif.n_frames <= 20  # (GIF merges repeated frames)
    html = (out / "index.html").read_text()
    assert "learning_curves.png" in html and "gameplay.gif" in html and "ddqn_prio/CartPole-v1_2" in html
    assert "index.html" in result.stdout


def _damage_weights(model):
    import zipfile

    with zipfile.ZipFile(model) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["policy.pth"] = b"not a torch file" * 8
    with zipfile.ZipFile(model, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_corrupt_run_files_are_one_line_each_and_report_goes_on(tmp_path, cartpole_runs, capsys):
    """A run whose evaluations.npz is garbage, whose metrics.yml is a scalar and whose config.yml is
    a list: report warns once per file (one line each) and still writes its plots; evaluate ends in
    one error naming config.yml; a model whose weights are damaged is one error line everywhere."""
    from sb3_atari_ext.cli import main

    folder = copy_cartpole_runs(cartpole_runs, tmp_path)
    run_dir = folder / "logs" / "ddqn_prio" / "CartPole-v1_2"
    (run_dir / "evaluations.npz").write_text("garbage{{")
    (run_dir / "metrics.yml").write_text("5\n")
    (run_dir / "CartPole-v1" / "config.yml").write_text("- a\n- list\n")
    capsys.readouterr()
    assert main(["report", "-f", str(folder / "logs"), "--out", str(tmp_path / "report"), "--gif-frames", "0"]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 3 and "Traceback" not in err
    assert all(str(run_dir) in line for line in warnings)
    assert (tmp_path / "report" / "learning_curves.png").is_file()

    args = ["evaluate", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-f", str(folder / "logs"), "--episodes", "1"]
    assert main([*args, "--exp-id", "2"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: cannot read") and "config.yml" in line

    _damage_weights(folder / "logs" / "ddqn_prio" / "CartPole-v1_1" / "CartPole-v1.zip")
    assert main([*args, "--exp-id", "1"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ") and "weights file (.pth) inside the model zip is damaged" in line
    enjoy = run(
        ["-m", "rl_zoo3.enjoy", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-f", "logs", "--exp-id", "1",
         "-n", "50", "--no-render"],
        cwd=folder,
        check=False,
    )  # fmt: skip
    assert enjoy.returncode != 0 and enjoy.stderr.strip().splitlines()[-1].startswith("error: a weights file")
    assert "Traceback" not in enjoy.stderr
