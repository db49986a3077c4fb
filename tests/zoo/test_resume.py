"""``sb3-atari train --resume``: a stopped run continues to its budget with its step count and schedules."""

import numpy as np
import pytest

from tests.conftest import run

TRAIN = ["-m", "sb3_atari_ext.cli", "train", "--algo", "pqn", "--env", "CartPole-v1", "-f", "logs", "--seed", "0",
         "--eval-freq", "512", "--eval-episodes", "2", "--save-freq", "1024"]  # fmt: skip


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    """A 2,048-step pqn run with checkpoints at 1,024 and 2,048 steps."""
    folder = tmp_path_factory.mktemp("resume")
    run([*TRAIN, "-n", "2048"], cwd=folder)
    return folder


def test_resume_continues_the_step_count_and_the_schedules(stopped_run):
    from sb3_atari_ext.pqn import PQN

    checkpoint = stopped_run / "logs/pqn/CartPole-v1_1/rl_model_1024_steps.zip"
    result = run([*TRAIN, "-n", "3072", "--resume", str(checkpoint)], cwd=stopped_run)
    assert "Resuming at step 1024: 2048 steps left" in result.stderr
    resumed = stopped_run / "logs/pqn/CartPole-v1_2"
    with np.load(resumed / "evaluations.npz") as data:
        steps = list(data["timesteps"])
    assert steps[0] > 1024 and steps[-1] == 3072 and steps == sorted(steps)
    assert sorted(p.name for p in resumed.glob("rl_model_*_steps.zip"))[-1] == "rl_model_3072_steps.zip"
    model = PQN.load(resumed / "CartPole-v1.zip")
    # RL Zoo's -i would have counted 2,048 steps from 0 (schedules restarted): 3,072 in all here
    assert model.num_timesteps == 3072 and model._total_timesteps == 3072
    assert type(model) is PQN
    assert model.exploration_rate == pytest.approx(model.exploration_schedule(model._current_progress_remaining))
    assert model._current_progress_remaining < 0.05

    # -n is the total budget: a checkpoint at it has nothing left to train
    at_budget = checkpoint.with_name("rl_model_2048_steps.zip")
    done = run([*TRAIN, "-n", "2048", "--resume", str(at_budget)], cwd=stopped_run, check=False)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode != 0 and len(errors) == 1 and "already at 2048 steps of the run's 2048" in errors[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--resume", "missing.zip"], "argument --resume: missing.zip is not a model file"),
        (["--resume=notes.txt"], "argument --resume: notes.txt is not a model file"),
        (["--resume"], "argument --resume: expected a checkpoint"),
        (["--resume", "model.zip", "-i", "x.zip"], "give one"),
    ],
)
def test_an_unusable_resume_is_one_error_line(tmp_path, monkeypatch, capsys, extra, message):
    from sb3_atari_ext.zoo.resume import resume_to_zoo

    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.zip").write_bytes(b"PK")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SystemExit) as exit_info:
        resume_to_zoo(["--algo", "pqn", *extra])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_resume_becomes_zoo_s_trained_agent_option(tmp_path):
    from sb3_atari_ext.zoo import resume

    (tmp_path / "m.zip").write_bytes(b"PK")
    assert resume.resume_to_zoo(["--algo", "pqn"]) == ["--algo", "pqn"]
    assert resume.REQUESTED is False
    try:
        model = str(tmp_path / "m.zip")
        assert resume.resume_to_zoo(["--resume", model, "-n", "5"]) == ["-n", "5", "-i", model]
        assert resume.REQUESTED is True
    finally:
        resume.REQUESTED = False
