"""The envpool and ale_vector backends against RL Zoo's AtariWrapper pipeline, on the same seeds
and actions: every check runs on both."""

import sys

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.atari_wrappers import AtariWrapper
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack, VecTransposeImage

from sb3_atari_ext import A3C
from sb3_atari_ext.wrappers.ale_vector import AleVecEnv, ale_rom, make_ale_vector_env
from sb3_atari_ext.wrappers.envpool import (
    BackendUnavailable,
    EnvpoolVecEnv,
    envpool_task_id,
    make_envpool_env,
)

ATARI = [("stable_baselines3.common.atari_wrappers.AtariWrapper", {})]
BACKENDS = pytest.mark.parametrize("backend", [EnvpoolVecEnv, AleVecEnv], ids=["envpool", "ale_vector"])


def zoo_pipeline(env_id, n_envs=1, seed=0, **atari):
    """What RL Zoo builds for ``env_wrapper: AtariWrapper`` + ``frame_stack: 4``."""
    env = DummyVecEnv([lambda: AtariWrapper(Monitor(gym.make(env_id)), **atari) for _ in range(n_envs)])
    env.seed(seed)
    return VecTransposeImage(VecFrameStack(env, 4))


@BACKENDS
def test_freeway_agrees_with_the_rl_zoo_pipeline(backend):
    """Freeway has no FIRE and no lives. The two pipelines start the game a few frames apart
    (the pool's reset), so cars are a few pixels off, but the frames, the episode length and the
    score of the same policy agree."""
    ours = backend("FreewayNoFrameskip-v4", 1, seed=0, frame_stack=4, noop_max=0)
    zoo = zoo_pipeline("FreewayNoFrameskip-v4", noop_max=0)
    assert ours.observation_space == zoo.observation_space and ours.action_space == zoo.action_space
    o1, o2 = ours.reset(), zoo.reset()
    assert o1.dtype == o2.dtype == np.uint8 and o1.shape == o2.shape == (1, 4, 84, 84)
    np.testing.assert_array_equal(o1[:, :3], o2[:, :3])  # zero-filled stack, as VecFrameStack
    up = np.array([1])  # always UP: a deterministic policy that scores
    episodes = {}
    for step in range(3000):
        o1, r1, d1, i1 = ours.step(up)
        o2, r2, d2, i2 = zoo.step(up)
        assert r1[0] in (0.0, 1.0) and r2[0] in (0.0, 1.0)
        if step < 300:  # ALE's grayscale vs OpenCV's RGB->gray, and the start offset: < 1 gray level
            assert np.abs(o1.astype(int) - o2).mean() < 1.0
        for name, info in (("pool", i1[0]), ("zoo", i2[0])):
            if "episode" in info and name not in episodes:
                episodes[name] = info["episode"]
        if len(episodes) == 2:
            break
    assert episodes["pool"]["l"] == episodes["zoo"]["l"] == 8192  # 2:16 of game time, in frames
    assert episodes["zoo"]["r"] >= 15 and abs(episodes["pool"]["r"] - episodes["zoo"]["r"]) <= 1
    ours.close()


@BACKENDS
def test_breakout_life_losses_episodes_and_terminal_observations(backend):
    env = backend("BreakoutNoFrameskip-v4", 2, seed=1, frame_stack=4)
    env.reset()
    rng = np.random.default_rng(0)
    life_losses = episodes = 0
    for _ in range(1500):
        obs, rewards, dones, infos = env.step(rng.integers(4, size=2))
        assert set(np.unique(rewards)) <= {-1.0, 0.0, 1.0}
        for i in np.flatnonzero(dones):
            info = infos[i]
            assert info["terminal_observation"].shape == (4, 84, 84)
            np.testing.assert_array_equal(obs[i, :3], 0)  # a new stack after every done
            assert obs[i, 3].any()
            if "episode" in info:  # the real end of a game: all lives gone
                episodes += 1
                assert info["episode"]["l"] % 4 == 0 and info["episode"]["r"] >= 0
            else:
                life_losses += 1
                assert info["lives"] > 0
    assert life_losses >= 4 * episodes and episodes >= 1  # 5 lives per game
    env.close()


@BACKENDS
def test_unclipped_episode_return_and_monitor_file(tmp_path, backend):
    env = backend("SpaceInvadersNoFrameskip-v4", 2, seed=0, frame_stack=4, monitor_dir=str(tmp_path))
    env.reset()
    rng = np.random.default_rng(0)
    clipped = np.zeros(2)
    finished = []
    while len(finished) < 1:
        _, rewards, dones, infos = env.step(rng.integers(6, size=2))
        clipped += rewards
        for i in np.flatnonzero(dones):
            if "episode" in infos[i]:
                finished.append((infos[i]["episode"]["r"], clipped[i]))
                clipped[i] = 0
    env.close()
    raw, clip = finished[0]
    assert raw > clip > 0  # Space Invaders scores 5-30 per alien: the Monitor return is unclipped
    lines = (tmp_path / f"{backend.backend}.monitor.csv").read_text().splitlines()
    assert lines[1] == "r,l,t" and float(lines[2].split(",")[0]) == raw


@BACKENDS
def test_evaluate_policy_counts_real_episodes(backend):
    env = backend("PongNoFrameskip-v4", 1, seed=0, frame_stack=4)
    model = A3C("CnnLstmPolicy", env, n_steps=4, seed=0, policy_kwargs=dict(lstm_hidden_size=32))
    # Pong has no lives: one episode is one game (-21..21)
    rewards, lengths = evaluate_policy(model, env, n_eval_episodes=1, return_episode_rewards=True)
    assert -21 <= rewards[0] <= 21 and lengths[0] > 700
    env.close()


@pytest.mark.parametrize("make", [make_envpool_env, make_ale_vector_env], ids=["envpool", "ale_vector"])
@pytest.mark.parametrize("extractor", ["SmallCNN", "TransformerExtractor", "LstmExtractor", None])
def test_a3c_trains_with_each_extractor_on_each_backend(extractor, make):
    from sb3_atari_ext.plugins import get_registry

    env = make("BreakoutNoFrameskip-v4", 2, 0, 4, ATARI, None, None)
    kwargs = dict(lstm_hidden_size=32)
    if extractor is not None:
        kwargs["features_extractor_class"] = get_registry().get("feature_extractors", extractor)
    model = A3C("CnnLstmPolicy", env, n_steps=4, policy_kwargs=kwargs, seed=0)
    model.learn(16)
    assert model.num_timesteps == 16
    env.close()


def test_unavailable_backend_gives_the_reason(monkeypatch):
    with pytest.raises(BackendUnavailable, match="NoFrameskip-v4 Atari ids"):
        envpool_task_id("CartPole-v1")
    with pytest.raises(BackendUnavailable, match="AtariWrapper only"):
        make_envpool_env("BreakoutNoFrameskip-v4", 2, 0, 4, [("DeathPenalty", {})], None, None)
    with pytest.raises(BackendUnavailable, match="env_kwargs"):
        make_envpool_env("BreakoutNoFrameskip-v4", 2, 0, 4, ATARI, {"mode": 1}, None)
    with pytest.raises(BackendUnavailable, match="ale_vector backend supports the \\*NoFrameskip-v4"):
        ale_rom("CartPole-v1")
    with pytest.raises(BackendUnavailable, match="ale_vector backend reproduces env_wrapper AtariWrapper only"):
        make_ale_vector_env("BreakoutNoFrameskip-v4", 2, 0, 4, [("DeathPenalty", {})], None, None)
    with pytest.raises(BackendUnavailable, match="no ROM 'not_a_game'"):
        ale_rom("NotAGameNoFrameskip-v4")
    assert ale_rom("MsPacmanNoFrameskip-v4") == "ms_pacman"
    monkeypatch.setitem(sys.modules, "envpool", None)  # what an environment without envpool sees
    with pytest.raises(BackendUnavailable, match="envpool is not installed"):
        envpool_task_id("BreakoutNoFrameskip-v4")


@BACKENDS
def test_seeds_beyond_int32_are_accepted(backend):
    """RL Zoo's default seed is drawn from [0, 2**32 - 1); the pools take int32 seeds."""
    env = backend("PongNoFrameskip-v4", 1, seed=2**32 - 2, frame_stack=4)
    obs = env.reset()
    assert obs.shape == (1, 4, 84, 84)
    env.seed(3_000_000_000)
    assert env.reset().shape == (1, 4, 84, 84)
    env.close()
