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
