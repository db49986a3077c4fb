"""``sb3-atari benchmark``: grid parsing, a real 2 x 1 x 2 grid through RL Zoo, resume, errors."""

import json
from pathlib import Path

import numpy as np
import pytest

from sb3_atari_ext.benchmark.grid import GridError, Variant, build_grid, parse_variant
from tests.conftest import run

GRID = ["--algos", "dqn", "ddqn_prio", "--envs", "MinAtar/Breakout-v1", "--seeds", "2", "-n", "1500",
        "--eval-freq", "500", "--eval-episodes", "2", "--workers", "2", "-f", "logs", "--out", "report",
        "--no-progress"]  # fmt: skip


def test_parse_variant_reads_literals_and_keeps_code_strings():
    variant = parse_variant("rainbow_lite=ddqn_prio n_steps:3 policy_kwargs:'dict(dueling=True)' alpha:0.5")
    assert variant == Variant("rainbow_lite", "ddqn_prio", {"n_steps": 3, "policy_kwargs": "dict(dueling=True)", "alpha": 0.5})
    assert variant.zoo_params() == ["n_steps:3", "policy_kwargs:'dict(dueling=True)'", "alpha:0.5"]
    with pytest.raises(GridError, match="KEY:VALUE"):
        parse_variant("x=ddqn_prio n_steps")


def test_grid_file_variants_seeds_and_run_order(tmp_path):
    path = tmp_path / "grid.yml"
    path.write_text(
        "budget: 1000\nseeds: 2\nenvs: [A-v0, B-v0]\nvariants:\n  dqn: {}\n"
        "  fancy: {algo: ddqn_prio, params: {n_steps: 3}}\n  a3c: {seeds: 1}\n"
    )
    grid = build_grid(path)
    assert [v.name for v in grid.variants] == ["dqn", "fancy", "a3c"]
    runs = [(v.name, env, seed) for v, env, seed in grid.runs()]
    assert len(runs) == 2 * 2 + 2 * 2 + 2 * 1
    # seed 0 first: the two-seed variants on every game, then the one-seed variant
    assert runs[:6] == [(n, e, 0) for n in ("dqn", "fancy", "a3c") for e in ("A-v0", "B-v0")]
    assert {seed for _, _, seed in runs[6:]} == {1}
    only = build_grid(path, algos=["fancy"], seeds=1)
    assert [(v.algo, v.params) for v in only.variants] == [("ddqn_prio", {"n_steps": 3})] and only.seeds == 1
    path.write_text("budget: 1000\nbogus: 1\n")
    with pytest.raises(GridError, match="unknown key 'bogus'"):
        build_grid(path)


@pytest.fixture(scope="module")
def benchmark_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("benchmark")
    first = run(["-m", "sb3_atari_ext.cli", "benchmark", *GRID], cwd=folder, timeout=600)
    return folder, first


@pytest.mark.slow
def test_benchmark_writes_report_summary_and_plots(benchmark_run):
    folder, first = benchmark_run
    assert "runs: 4 trained, 0 already finished, 0 failed" in first.stdout
    out = folder / "report"
    for name in ("report.md", "summary.json", "learning_curves.png", "performance_profile.png", "scores.csv", "curves.csv"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["budget_steps"] == 1500 and summary["seeds"] == 2 and summary["envs"] == ["MinAtar/Breakout-v1"]
    assert set(summary["algorithms"]) == {"dqn", "ddqn_prio"}
    for entry in summary["algorithms"].values():
        assert entry["runs"] == 2 and entry["iqm_ci"][0] <= entry["iqm"] <= entry["iqm_ci"][1]
    # the runs are ordinary RL Zoo folders
    for algo in ("dqn", "ddqn_prio"):
        for n in (1, 2):
            assert (folder / "logs" / algo / f"MinAtar-Breakout-v1_{n}" / "evaluations.npz").is_file()
    report = (out / "report.md").read_text()
    assert "| MinAtar/Breakout-v1 |" in report and "IQM" in report
    # each finished run keeps the settings it trained with: the plugin's yaml, one for both seeds
    manifest = json.loads((out / "runs.json").read_text())["runs"].values()
    assert all(e["settings"]["batch_size"] == 32 and "n_timesteps" not in e["settings"] for e in manifest)
    assert {e["settings"].get("alpha") for e in manifest if e["variant"] == "ddqn_prio"} == {0.6}
    assert summary["algorithms"]["ddqn_prio"]["settings"] == {"runs": 2, "recorded": 2, "distinct": 1, "differs": {}}
    assert "| ddqn_prio | 2 of 2 | 1 | - |" in report


@pytest.mark.slow
def test_iqm_equals_the_trimmed_mean_of_the_same_scores(benchmark_run):
    from scipy import stats

    folder, _ = benchmark_run
    out = folder / "report"
    summary = json.loads((out / "summary.json").read_text())
    random = summary["random"]["MinAtar/Breakout-v1"]
    runs = json.loads((out / "runs.json").read_text())["runs"].values()

    def final(algo):
        scores = []
        for entry in runs:
            if entry["variant"] == algo:
                with np.load(folder / entry["folder"] / "evaluations.npz") as data:
                    scores.append(data["results"][-1].mean())
        return np.array(scores)

    baseline = final("dqn").mean()
    span = baseline - random
    # a baseline no better than random (short runs) has no normalized scores: the report says so
    assert summary["baseline_not_above_random"] == ([] if span > 0 else ["MinAtar/Breakout-v1"])
    for algo in ("dqn", "ddqn_prio"):
        normalized = ((final(algo) - random) / span)[:, None] if span > 0 else (final(algo) - random)[:, None]
        assert summary["algorithms"][algo]["iqm"] == pytest.approx(stats.trim_mean(normalized, 0.25, axis=None))
    if span <= 0:
        assert "scores no better than random on MinAtar/Breakout-v1" in (out / "report.md").read_text()


@pytest.mark.slow
def test_second_call_trains_nothing(benchmark_run):
    folder, _ = benchmark_run
    before = sorted(p.name for p in (folder / "logs" / "dqn").iterdir())
    again = run(["-m", "sb3_atari_ext.cli", "benchmark", *GRID], cwd=folder, timeout=300)
    assert "runs: 0 trained, 4 already finished, 0 failed" in again.stdout
    assert sorted(p.name for p in (folder / "logs" / "dqn").iterdir()) == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["--algos", "dqn_typo", "--envs", "MinAtar/Breakout-v1"], "error: unknown algorithm 'dqn_typo'"),
        (["--algos", "dqn", "--envs", "MinAtar/Breakot-v1"], "error: unknown env id 'MinAtar/Breakot-v1'"),
        (["--algos", "dqn", "--envs", "MinAtar/Breakout-v1", "--variant", "fast"], "error: bad --variant 'fast'"),
        (["--algos", "dqn", "--envs", "MinAtar/Breakout-v1", "--grid", "missing.yml"], "error: grid file not found"),
    ],
)
def test_bad_grid_is_one_error_line(tmp_path, args, message):
    result = run(["-m", "sb3_atari_ext.cli", "benchmark", *args, "--out", "report"], cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and result.stderr.startswith(message)
    assert not (tmp_path / "logs").exists()


@pytest.mark.slow
def test_report_is_rebuilt_from_the_manifest_alone(benchmark_run, tmp_path):
    import shutil

    folder, _ = benchmark_run
    copy = tmp_path / "copy"
    shutil.copytree(folder / "report", copy / "report")  # what is committed: no logs/ folder
    before = json.loads((copy / "report" / "summary.json").read_text())
    args = [*GRID[: GRID.index("-f")], "-f", "logs", "--out", "report", "--report-only", "--no-progress"]
    run(["-m", "sb3_atari_ext.cli", "benchmark", *args], cwd=copy)
    after = json.loads((copy / "report" / "summary.json").read_text())
    assert after["algorithms"]["ddqn_prio"]["iqm"] == pytest.approx(before["algorithms"]["ddqn_prio"]["iqm"])
    assert after["algorithms"]["dqn"]["runs"] == 2


@pytest.mark.slow
def test_a_folder_reused_on_another_checkout_does_not_replace_a_finished_runs_scores(benchmark_run, tmp_path):
    # RL Zoo numbers run folders per machine: on a fresh checkout a later run can get the number a
    # finished run had. The manifest's record of the finished run must win over that folder.
    import shutil

    import numpy as np

    folder, _ = benchmark_run
    copy = tmp_path / "copy"
    shutil.copytree(folder / "report", copy / "report")
    shutil.copytree(folder / "logs", copy / "logs")
    before = json.loads((copy / "report" / "summary.json").read_text())
    manifest = json.loads((copy / "report" / "runs.json").read_text())["runs"]
    entry = next(e for e in manifest.values() if e["status"] == "finished")
    npz = copy / entry["folder"] / "evaluations.npz"
    with np.load(npz) as data:
        fields = {k: data[k] for k in data.files}
    fields["results"] = np.full_like(fields["results"], 999.0, dtype=float)  # another run's results
    np.savez(npz, **fields)
    args = [*GRID[: GRID.index("-f")], "-f", "logs", "--out", "report", "--report-only", "--no-progress"]
    run(["-m", "sb3_atari_ext.cli", "benchmark", *args], cwd=copy)
    after = json.loads((copy / "report" / "summary.json").read_text())
    for algo in ("dqn", "ddqn_prio"):
        assert after["algorithms"][algo]["iqm"] == pytest.approx(before["algorithms"][algo]["iqm"])


def test_a_variant_with_its_own_budget_and_evaluation_interval(tmp_path):
    from sb3_atari_ext.benchmark.runner import BenchmarkRunner, run_key

    path = tmp_path / "grid.yml"
    path.write_text(
        "budget: 1000\nseeds: 1\nenvs: [A-v0]\neval_freq: 100\nvariants:\n  dqn: {}\n  pqn: {budget: 8000, eval_freq: 2000}\n"
    )
    grid = build_grid(path)
    dqn, pqn = grid.variants
    assert (grid.budget_of(dqn), grid.eval_freq_of(dqn)) == (1000, 100)
    assert (grid.budget_of(pqn), grid.eval_freq_of(pqn)) == (8000, 2000)
    command = BenchmarkRunner(grid, tmp_path / "logs", tmp_path / "out", workers=1, progress=False).command(pqn, "A-v0", 0)
    assert command[command.index("-n") + 1] == "8000" and command[command.index("--eval-freq") + 1] == "2000"
    # the grid's own budget keeps the identity of the runs it had (finished runs stay valid)
    plain = build_grid(path, algos=["dqn"])
    assert run_key(grid, dqn, "A-v0", 0) == run_key(plain, plain.variants[0], "A-v0", 0)
    assert run_key(grid, pqn, "A-v0", 0) != run_key(grid, Variant("pqn", "pqn"), "A-v0", 0)
    # a revision (the algorithm's yaml defaults changed) makes new runs; revision 1 is not "none"
    path.write_text("budget: 1000\nseeds: 1\nenvs: [A-v0]\neval_freq: 100\nvariants:\n  dqn: {revision: 1}\n")
    first = build_grid(path)
    assert first.variants[0].revision == 1
    assert run_key(first, first.variants[0], "A-v0", 0) != run_key(grid, dqn, "A-v0", 0)
    path.write_text("budget: 1000\nseeds: 1\nenvs: [A-v0]\neval_freq: 100\nvariants:\n  dqn: {revision: 2}\n")
    second = build_grid(path)
    assert run_key(second, second.variants[0], "A-v0", 0) != run_key(first, first.variants[0], "A-v0", 0)
    runner = BenchmarkRunner(second, tmp_path / "logs", tmp_path / "out", workers=1, progress=False)
    assert runner.log_path(second.variants[0], "A-v0", 0).name == "dqn__A-v0__seed0__r2.log"
    assert runner.log_path(dqn, "A-v0", 0).name == "dqn__A-v0__seed0.log"
    path.write_text("budget: 1000\nenvs: [A-v0]\nvariants:\n  dqn: {revision: two}\n")
    with pytest.raises(GridError, match="revision='two' is not a positive integer"):
        build_grid(path)
    path.write_text("budget: 1000\nenvs: [A-v0]\nvariants:\n  pqn: {budjet: 5}\n")
    with pytest.raises(GridError, match="unknown key 'budjet'"):
        build_grid(path)


@pytest.mark.slow
def test_an_interrupted_run_with_checkpoints_resumes_from_its_last_one(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from sb3_atari_ext.pqn import PQN

    (tmp_path / "grid.yml").write_text(
        "budget: 60000\nseeds: 1\nenvs: [CartPole-v1]\neval_freq: 4096\neval_episodes: 2\n"
        "variants:\n  pqn: {save_freq: 8192}\n"
    )
    args = [sys.executable, "-m", "sb3_atari_ext.cli", "benchmark", "--grid", "grid.yml", "-f", "logs", "--out", "out",
            "--workers", "1", "--no-progress"]  # fmt: skip
    first = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while not list(tmp_path.glob("logs/pqn/CartPole-v1_1/rl_model_*_steps.zip")) and time.time() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=120)
    entry = next(iter(json.loads((tmp_path / "out/runs.json").read_text())["runs"].values()))
    assert entry["status"] == "interrupted", entry

    second = run(args[1:], cwd=tmp_path, timeout=600)
    assert "runs: 1 trained" in second.stdout
    entry = next(iter(json.loads((tmp_path / "out/runs.json").read_text())["runs"].values()))
    assert entry["status"] == "finished"
    (segment,) = entry["segments"]  # the first folder, up to the checkpoint it resumed from
    assert segment["folder"].endswith("CartPole-v1_1") and segment["until"] % 8192 == 0 and segment["until"] < 60000
    assert entry["folder"].endswith("CartPole-v1_2")
    steps = entry["eval_timesteps"]
    # the curve joins both folders' evaluations: some from before the resume point, some after
    assert steps == sorted(set(steps)) and steps[0] <= segment["until"] < steps[-1]
    assert len(entry["eval_returns"]) == len(steps)
    assert f"Resuming at step {segment['until']}" in (tmp_path / entry["log"]).read_text()
    assert PQN.load(tmp_path / entry["folder"] / "CartPole-v1.zip").num_timesteps >= 60000


def test_save_replay_buffer_goes_with_checkpoints_only(tmp_path):
    from sb3_atari_ext.benchmark.runner import BenchmarkRunner

    path = tmp_path / "grid.yml"
    text = "budget: 1000\nenvs: [A-v0]\nsave_replay_buffer: true\nvariants:\n  dqn: {}\n  ddqn_prio: {save_freq: 500}\n"
    path.write_text(text)
    grid = build_grid(path)
    runner = BenchmarkRunner(grid, tmp_path / "logs", tmp_path / "out", workers=1, progress=False)
    dqn, ddqn_prio = grid.variants
    assert "--save-replay-buffer" not in runner.command(dqn, "A-v0", 0)  # no checkpoints: nothing to resume
    command = runner.command(ddqn_prio, "A-v0", 0)
    assert command[command.index("--save-freq") + 1] == "500" and "--save-replay-buffer" in command
    path.write_text("budget: 1000\nenvs: [A-v0]\nsave_replay_buffer: 'yes'\nvariants:\n  dqn: {}\n")
    with pytest.raises(GridError, match="save_replay_buffer='yes' is not true or false"):
        build_grid(path)


@pytest.mark.slow
def test_an_interrupted_off_policy_run_resumes_with_its_replay_buffer(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "grid.yml").write_text(
        "budget: 6000\nseeds: 1\nenvs: [CartPole-v1]\neval_freq: 1500\neval_episodes: 2\nsave_freq: 1500\n"
        "save_replay_buffer: true\nvariants:\n  ddqn_prio: {}\n"
    )
    args = [sys.executable, "-m", "sb3_atari_ext.cli", "benchmark", "--grid", "grid.yml", "-f", "logs", "--out", "out",
            "--workers", "1", "--no-progress"]  # fmt: skip
    first = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    folder = tmp_path / "logs/ddqn_prio/CartPole-v1_1"
    deadline = time.time() + 240
    while not (list(folder.glob("rl_model_*_steps.zip")) and (folder / "replay_buffer.pkl").is_file()):
        assert time.time() < deadline and first.poll() is None, "no checkpoint with its replay buffer"
        time.sleep(0.05)
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=120)
    assert next(iter(json.loads((tmp_path / "out/runs.json").read_text())["runs"].values()))["status"] == "interrupted"

    second = run(args[1:], cwd=tmp_path, timeout=600)
    assert "runs: 1 trained" in second.stdout
    entry = next(iter(json.loads((tmp_path / "out/runs.json").read_text())["runs"].values()))
    assert entry["status"] == "finished" and entry["folder"].endswith("CartPole-v1_2")
    log = (tmp_path / entry["log"]).read_text()
    (segment,) = entry["segments"]
    assert f"Resuming at step {segment['until']}" in log and "Loading replay buffer" in log
    # a finished run needs no replay: none is left in either folder
    assert not list((tmp_path / "logs").rglob("replay_buffer.pkl"))


def test_a_niced_runner_s_workers_are_niced_as_a_scheduling_group_too():
    import os
    import subprocess
    import sys
    from pathlib import Path

    from sb3_atari_ext.benchmark.runner import keep_niceness

    if not Path("/proc/self/autogroup").is_file():
        pytest.skip("this kernel has no autogroup scheduling: nice values alone decide")  # nothing to set
    # a niced parent (as `nice -n 19 sb3-atari benchmark` is) starting a worker in a new session
    code = (
        "import os, subprocess, sys, time\n"
        "from sb3_atari_ext.benchmark.runner import keep_niceness\n"
        "os.nice(19)\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(20)'], start_new_session=True)\n"
        "keep_niceness(p.pid)\n"
        "print(open(f'/proc/{p.pid}/autogroup').read().strip()); p.kill()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip().endswith("nice 19"), out
    # an un-niced caller changes nothing
    before = Path("/proc/self/autogroup").read_text()
    keep_niceness(os.getpid())
    assert Path("/proc/self/autogroup").read_text() == before or os.nice(0) > 0


def _zoo_run_folder(root, name="MinAtar-Breakout-v1_1", returns=(1.0, 2.0), **hyperparams):
    """A run folder as RL Zoo writes it: ``config.yml`` (an OrderedDict dumped by PyYAML) and
    ``evaluations.npz``."""
    from collections import OrderedDict

    import yaml

    folder = root / name
    (folder / name.rsplit("_", 1)[0]).mkdir(parents=True)
    config = OrderedDict(sorted({"n_timesteps": 500000.0, "batch_size": 32, **hyperparams}.items()))
    (folder / name.rsplit("_", 1)[0] / "config.yml").write_text(yaml.dump(config))
    np.savez(folder / "evaluations.npz", timesteps=np.array([500, 1000]), results=np.array([[r, r] for r in returns]))
    return folder


def test_run_settings_reads_rl_zoos_config_without_building_python_objects(tmp_path):
    from sb3_atari_ext.common.run_folder import run_settings

    folder = _zoo_run_folder(tmp_path, learning_rate=2.5e-4, policy_kwargs="dict(net_arch=[])")
    config = (folder / "MinAtar-Breakout-v1" / "config.yml").read_text()
    assert "python/object/apply:collections.OrderedDict" in config  # what RL Zoo writes
    assert run_settings(folder) == {"batch_size": 32, "learning_rate": 2.5e-4, "policy_kwargs": "dict(net_arch=[])"}
    # a callable given through -params is dumped as a python tag: kept as its tag, never imported
    import os

    tagged = _zoo_run_folder(tmp_path, "MinAtar-Breakout-v1_2", activation=os.system)
    assert "!!python/name:" in (tagged / "MinAtar-Breakout-v1" / "config.yml").read_text()
    assert run_settings(tagged) == {"activation": f"!!python/name:{os.system.__module__}.system", "batch_size": 32}
    assert run_settings(tmp_path / "nothing_1") is None
    (folder / "MinAtar-Breakout-v1" / "config.yml").write_text("- [unbalanced\n")
    assert run_settings(folder) is None


def test_settings_are_recorded_for_finished_runs_whose_folder_is_still_their_own(tmp_path):
    from sb3_atari_ext.benchmark.runner import record_missing_settings

    own = _zoo_run_folder(tmp_path, "MinAtar-Breakout-v1_1", returns=(1.0, 2.0), alpha=0.6)
    other = _zoo_run_folder(tmp_path, "MinAtar-Breakout-v1_2", returns=(5.0, 9.0), alpha=0.5)
    manifest = {
        "a": {"status": "finished", "folder": str(own), "eval_timesteps": [500, 1000], "eval_returns": [1.0, 2.0]},
        # the folder number was given to another run on this machine: its evaluations differ
        "b": {"status": "finished", "folder": str(other), "eval_timesteps": [500, 1000], "eval_returns": [3.0, 4.0]},
        "c": {"status": "running", "folder": str(own)},
        "d": {"status": "finished", "folder": str(own), "eval_timesteps": [500, 1000], "eval_returns": [1.0, 2.0],
              "settings": {"kept": True}},
    }  # fmt: skip
    assert record_missing_settings(manifest) == 1
    assert manifest["a"]["settings"] == {"alpha": 0.6, "batch_size": 32}
    assert "settings" not in manifest["b"] and "settings" not in manifest["c"] and manifest["d"]["settings"] == {"kept": True}


def test_the_report_names_every_hyperparameter_that_differs_between_a_variants_runs():
    from pathlib import Path

    from sb3_atari_ext.benchmark.aggregate import RunResult, settings_check

    def run(env, seed, settings):
        return RunResult("rainbow", env, seed, Path("."), np.array([1]), np.array([1.0]), 60.0, settings)

    same = {"learning_rate": 2.5e-4, "n_steps": 3}
    runs = [run("A", 0, same), run("B", 0, same), run("A", 1, {"learning_rate": 1e-4, "n_steps": 3}), run("B", 1, None)]
    check = settings_check(runs)
    assert check["runs"] == 4 and check["recorded"] == 3 and check["distinct"] == 2
    assert check["differs"] == {"learning_rate": {"0.00025": ["A seed 0", "B seed 0"], "0.0001": ["A seed 1"]}}
    assert settings_check(runs[:2])["differs"] == {} and settings_check(runs[:2])["distinct"] == 1


def test_the_run_folder_is_the_one_rl_zoo_names_in_the_worker_log(tmp_path):
    from sb3_atari_ext.benchmark.runner import logged_folder

    log = tmp_path / "worker.log"
    log.write_text("Loading hyperparameters\nLog path: logs/dqn/CartPole-v1_3\nEval num_timesteps=100\n")
    assert logged_folder(log) == Path("logs/dqn/CartPole-v1_3")
    first_segment = log.stat().st_size
    assert logged_folder(log, first_segment) is None  # a resumed segment that has not said it yet
    with open(log, "a") as handle:
        handle.write("Resuming at step 8192\nLog path: logs/dqn/CartPole-v1_4\n")
    assert logged_folder(log, first_segment) == Path("logs/dqn/CartPole-v1_4")
    assert logged_folder(tmp_path / "missing.log") is None


def test_a_folder_another_runner_makes_meanwhile_is_not_taken_for_this_run(tmp_path, monkeypatch):
    # two runners on one log folder: a run of the other one, same algo and env, makes its folder
    # between this run's launch and this run's own folder
    import time

    from sb3_atari_ext.benchmark.runner import BenchmarkRunner

    (tmp_path / "grid.yml").write_text(
        "budget: 600\nseeds: 1\nenvs: [CartPole-v1]\neval_freq: 300\neval_episodes: 2\nvariants:\n  dqn: {}\n"
    )
    runner = BenchmarkRunner(build_grid(tmp_path / "grid.yml"), tmp_path / "logs", tmp_path / "out", workers=1,
                             progress=False)  # fmt: skip
    (key, variant, env, seed), = runner.todo()
    monkeypatch.chdir(tmp_path)  # workers run in the runner's working directory, as the CLI's do
    runner.log_folder = Path("logs")
    active = runner._launch(key, variant, env, seed)
    (tmp_path / "logs" / "dqn" / "CartPole-v1_1").mkdir(parents=True)  # the other runner's
    deadline = time.time() + 240
    while active.process.poll() is None and time.time() < deadline:
        runner._find_folder(active)
        time.sleep(0.2)
    assert runner._finish(active) == "finished", active.log.read_text()[-2000:]
    entry = json.loads((tmp_path / "out" / "runs.json").read_text())["runs"][key]
    assert entry["folder"] == str(Path("logs") / "dqn" / "CartPole-v1_2")
    assert len(entry["eval_returns"]) == 2
    assert not any((tmp_path / "logs" / "dqn" / "CartPole-v1_1").iterdir())  # the other run's, untouched


def _zoo_args(folder, algo, env, seed, **hyperparams):
    """RL Zoo's ``<env>/args.yml`` (an OrderedDict dumped by PyYAML) and a checkpoint in ``folder``."""
    from collections import OrderedDict

    import yaml

    env_dir = folder / folder.name.rsplit("_", 1)[0]
    env_dir.mkdir(parents=True)
    args = OrderedDict(algo=algo, env=env, seed=seed, hyperparams=hyperparams or None, n_timesteps=600)
    (env_dir / "args.yml").write_text(yaml.dump(args))
    (folder / "rl_model_300_steps.zip").write_bytes(b"checkpoint")
    return folder


def test_a_recorded_folder_that_now_holds_another_run_is_neither_resumed_nor_removed(tmp_path):
    # An interrupted run's folder was removed between sessions and RL Zoo gave its number to a
    # later run: resuming from that run's checkpoint would continue the wrong agent (seen: a
    # rainbow_lite seed would have resumed from a finished ddqn_prio run of another seed).
    from sb3_atari_ext.benchmark.runner import BenchmarkRunner, holds_run

    (tmp_path / "grid.yml").write_text(
        "budget: 600\nseeds: 2\nenvs: [CartPole-v1]\nsave_freq: 300\nvariants:\n"
        "  lite: {algo: ddqn_prio, params: {n_steps: 3}}\n"
    )
    runner = BenchmarkRunner(build_grid(tmp_path / "grid.yml"), tmp_path / "logs", tmp_path / "out", workers=1,
                             progress=False)  # fmt: skip
    (key0, variant, env, _), (key1, _, _, _) = runner.todo()
    algo_dir = tmp_path / "logs" / "ddqn_prio"
    mine = _zoo_args(algo_dir / "CartPole-v1_1", "ddqn_prio", env, 0, n_steps=3)
    other_seed = _zoo_args(algo_dir / "CartPole-v1_2", "ddqn_prio", env, 4, n_steps=3)
    other_params = _zoo_args(algo_dir / "CartPole-v1_3", "ddqn_prio", env, 1)  # plain ddqn_prio, same seed
    assert holds_run(mine, variant, env, 0)
    assert not holds_run(other_seed, variant, env, 0) and not holds_run(other_params, variant, env, 1)
    assert not holds_run(tmp_path / "nothing_1", variant, env, 0)

    runner.manifest[key0] = {"status": "interrupted", "folder": str(mine), "wall_time_s": 5.0}
    segments, checkpoint = runner._resume_point(key0, variant, env, 0)
    assert checkpoint == mine / "rl_model_300_steps.zip" and segments[0]["until"] == 300

    runner.manifest[key0] = {"status": "interrupted", "folder": str(other_seed), "wall_time_s": 5.0}
    runner.manifest[key1] = {"status": "interrupted", "folder": str(other_params), "wall_time_s": 5.0}
    assert runner._resume_point(key0, variant, env, 0) == ([], None)
    assert runner._resume_point(key1, variant, env, 1) == ([], None)
    assert (other_seed / "rl_model_300_steps.zip").is_file() and (other_params / "rl_model_300_steps.zip").is_file()
    # a folder that does hold this run, with nothing to resume from, is removed (the run starts over)
    (mine / "rl_model_300_steps.zip").unlink()
    runner.manifest[key0] = {"status": "failed", "folder": str(mine)}
    assert runner._resume_point(key0, variant, env, 0) == ([], None) and not mine.exists()
