import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run

pytestmark = pytest.mark.slow  # real subprocesses, servers or browsers

ATARI = "SpaceInvadersNoFrameskip-v4"


def train_tiny(tmp_path, policy, **kwargs):
    import ale_py
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    from sb3_atari_ext import DDQNPrio

    gym.register_envs(ale_py)
    env = VecFrameStack(make_atari_env(ATARI, n_envs=1, seed=0), n_stack=4)
    model = DDQNPrio(policy, env, buffer_size=500, learning_starts=50, device="cpu", seed=0, **kwargs)
    model.learn(80)
    path = tmp_path / "model.zip"
    model.save(path)
    env.close()
    return path


@pytest.mark.parametrize("policy, attention", [("TransformerPolicy", True), ("CnnPolicy", False)])
def test_feature_maps_command_writes_images(tmp_path, policy, attention):
    model = train_tiny(tmp_path, policy)
    sb3_atari = Path(sys.executable).with_name("sb3-atari")
    # default: feature_maps/ next to the model (inside a run folder, where the dashboard shows them)
    out = tmp_path / "maps" if not attention else model.parent / "feature_maps"
    where = ["--out", str(out)] if not attention else []
    result = run([str(sb3_atari), "feature-maps", "--model", str(model), "--env", ATARI, *where, "--steps", "2"], cwd=tmp_path)
    names = sorted(p.name for p in out.glob("*.png"))
    expected = {"input", "feature_maps"} | ({"attention"} if attention else set())
    assert names == sorted(f"step_{s:03d}_{kind}.png" for s in range(2) for kind in expected)
    assert f"wrote {len(names)} images" in result.stdout
    for path in out.glob("*.png"):
        image = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
        assert image.shape[0] > 100 and image.shape[1] > 100
        assert image.std() > 5  # not an empty canvas


def test_feature_maps_command_rejects_missing_model(tmp_path):
    sb3_atari = Path(sys.executable).with_name("sb3-atari")
    result = run(
        [str(sb3_atari), "feature-maps", "--model", "nope.zip", "--env", ATARI, "--out", "x"], cwd=tmp_path, check=False
    )
    assert result.returncode == 2 and result.stderr == "error: model file not found: nope.zip\n"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "env, line",
    [
        ("BreakoutNoFrameskp-v4", "error: unknown env id 'BreakoutNoFrameskp-v4': --env takes an Atari id; did you mean "
                                  "BreakoutNoFrameskip-v4?\n"),
        ("CartPole-v1", "error: --env CartPole-v1 is not an Atari game (ale-py): this command takes ids such as "
                        "PongNoFrameskip-v4\n"),
    ],
)  # fmt: skip
def test_feature_maps_command_names_a_wrong_env_in_one_line(tmp_path, env, line):
    model = train_tiny(tmp_path, "CnnPolicy")
    sb3_atari = Path(sys.executable).with_name("sb3-atari")
    result = run([str(sb3_atari), "feature-maps", "--model", str(model), "--env", env], cwd=tmp_path, check=False)
    assert result.returncode == 2 and result.stderr == line
