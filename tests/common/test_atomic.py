"""Checkpoints of any algorithm (SB3's DQN here) are written atomically under RL Zoo's --save-freq."""

import pytest
from stable_baselines3 import DQN
from stable_baselines3.common.callbacks import CheckpointCallback

from sb3_atari_ext.common.atomic import AtomicCheckpointCallback


class DiesWhileSaving(DQN):
    """A save that is cut off half way (a crash, a full disk, a kill)."""

    def save(self, path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"PK\x03\x04 half a zip")
        raise OSError("No space left on device")


@pytest.mark.parametrize(("callback_class", "left"), [(CheckpointCallback, 1), (AtomicCheckpointCallback, 0)])
def test_a_checkpoint_cut_off_while_saving_leaves_nothing_behind(tmp_path, callback_class, left):
    model = DiesWhileSaving("MlpPolicy", "CartPole-v1", learning_starts=10, buffer_size=100, device="cpu")
    with pytest.raises(OSError):
        model.learn(50, callback=callback_class(save_freq=20, save_path=str(tmp_path), name_prefix="rl_model"))
    # SB3's callback leaves a truncated checkpoint that `-i` would pick up; ours leaves none
    assert len(list(tmp_path.glob("rl_model_*_steps.zip"))) == left
    assert not list(tmp_path.glob(".*tmp*"))


def test_checkpoints_with_replay_buffer_are_complete_and_load(tmp_path):
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=10, buffer_size=100, device="cpu")
    callback = AtomicCheckpointCallback.like(CheckpointCallback(20, str(tmp_path), "rl_model", save_replay_buffer=True))
    model.learn(60, callback=callback)
    zips = sorted(tmp_path.glob("rl_model_*_steps.zip"))
    assert [p.name for p in zips] == [f"rl_model_{n}_steps.zip" for n in (20, 40, 60)]
    assert len(list(tmp_path.glob("rl_model_replay_buffer_*_steps.pkl"))) == 3
    assert DQN.load(zips[-1], device="cpu").num_timesteps == 60
    assert not list(tmp_path.glob(".*tmp*"))


def test_stale_temporaries_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    import os
    import subprocess
    import sys

    from sb3_atari_ext.common.atomic import remove_stale_temporaries

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    run = tmp_path / "ddqn_prio" / "CartPole-v1_1"
    run.mkdir(parents=True)
    stale = run / f".replay_buffer.pkl.{dead_pid}.tmp.pkl"
    live = run / f".CartPole-v1.zip.{os.getpid()}.tmp.zip"
    other = run / ".notes.tmp"
    for path in (stale, live, other):
        path.write_bytes(b"x" * 100)
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and other.exists()


@pytest.mark.slow
def test_a_new_run_removes_what_a_killed_save_left(tmp_path):
    import subprocess
    import sys

    from tests.conftest import zoo_train

    pid_of_a_finished_process = [sys.executable, "-c", "import os; print(os.getpid())"]
    dead_pid = int(subprocess.run(pid_of_a_finished_process, capture_output=True, text=True).stdout)
    old_run = tmp_path / "logs" / "ddqn_prio" / "CartPole-v1_1"
    old_run.mkdir(parents=True)
    stale = old_run / f".replay_buffer.pkl.{dead_pid}.tmp.pkl"
    stale.write_bytes(b"\0" * 4096)
    result = zoo_train(tmp_path, "ddqn_prio", "CartPole-v1", 100, "-params", "learning_starts:50")
    assert not stale.exists() and "left by a run killed while saving" in result.stderr
