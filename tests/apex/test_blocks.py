"""Blocks of Ape-X transitions: every frame once on the wire and in the buffer, n-step returns
computed by the actors exactly as the learner's buffer computes them (no Ray needed)."""

import numpy as np
import pytest
from stable_baselines3.common.atari_wrappers import AtariWrapper

from sb3_atari_ext.apex.actor import actor_epsilon
from sb3_atari_ext.apex.blocks import FrameCodec, StreamRecorder, n_step_targets
from sb3_atari_ext.apex.envs import EnvFactory
from sb3_atari_ext.buffers import PrioritizedReplayBuffer


def test_actor_epsilons_follow_the_ape_x_formula():
    eps = [actor_epsilon(i, 8) for i in range(8)]
    assert eps[0] == pytest.approx(0.4) and eps[-1] == pytest.approx(0.4**8)
    assert eps == pytest.approx([0.4 ** (1 + 7 * i / 7) for i in range(8)])
    assert all(a > b for a, b in zip(eps, eps[1:], strict=False))
    assert actor_epsilon(0, 1) == 0.4 and actor_epsilon(3, 4, base=0.5, alpha=1.0) == pytest.approx(0.25)


def _record_atari(steps):
    """Random play in Breakout with RL Zoo's Atari pipeline: (stream, obs, next_obs, codec, env)."""
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    env = EnvFactory("BreakoutNoFrameskip-v4", wrapper_class=AtariWrapper, frame_stack=4).make(1, seed=3)
    codec = FrameCodec(env.observation_space, env.action_space)
    recorder = StreamRecorder(codec)
    rng = np.random.default_rng(0)
    obs = env.reset()
    all_obs, all_next = [], []
    for _ in range(steps):
        action = rng.integers(0, env.action_space.n, size=1)
        next_obs, reward, done, info = env.step(action)
        real_next = info[0]["terminal_observation"] if done[0] else next_obs[0]
        recorder.add(obs[0], action[0], float(reward[0]), real_next, bool(done[0]), False)
        all_obs.append(obs[0])
        all_next.append(real_next)
        obs = next_obs
    return recorder.finish(), np.stack(all_obs), np.stack(all_next), codec, env


def test_a_stream_sends_each_frame_once_and_decodes_exactly():
    stream, obs, next_obs, codec, env = _record_atari(150)
    episodes = int(stream.dones.sum())
    assert episodes >= 1  # Breakout's lives end episodes under AtariWrapper: resets are covered
    decoded = stream.observations(codec)
    np.testing.assert_array_equal(decoded[stream.obs_index], obs)
    np.testing.assert_array_equal(decoded[stream.next_index], next_obs)
    # one new frame per step, full stacks only at the start and after each episode end
    frame_bytes = int(np.prod(codec.frames(obs[0]).shape[1:]))
    assert stream.frames.shape[0] <= len(stream) + 4 * (1 + 2 * episodes)
    assert stream.nbytes < 0.2 * 2 * obs.nbytes  # obs + next_obs stacks would be 2 * 150 * 28 KB
    assert stream.frames.nbytes >= len(stream) * frame_bytes
    env.close()


def test_the_buffer_stores_a_stream_as_sent_with_its_priorities_and_ends_n_step_returns_there():
    stream, obs, next_obs, codec, env = _record_atari(120)
    first = len(stream) // 2
    buffer = PrioritizedReplayBuffer(1000, env.observation_space, env.action_space, device="cpu", n_steps=3, gamma=0.9)
    priorities = np.linspace(0.1, 2.0, len(stream))
    # two pieces of one stream, as two blocks of an actor arrive: each ends where it was cut
    parts = [slice(0, first), slice(first, len(stream))]
    flat = np.concatenate([
        buffer.add_stream(obs[p], next_obs[p], stream.actions[p], stream.rewards[p], stream.dones[p],
                          stream.truncated[p], priorities[p])
        for p in parts
    ])  # fmt: skip
    assert buffer.size() == len(stream)
    np.testing.assert_array_equal(buffer.observations_at(flat, np.zeros_like(flat)), obs)
    np.testing.assert_array_equal(buffer.next_observations_at(flat, np.zeros_like(flat)), next_obs)
    np.testing.assert_allclose(buffer.tree[flat], (priorities + buffer.priority_eps) ** buffer.alpha)
    # the learner's n-step returns equal the actor's, piece by piece
    for p in parts:
        idx = flat[p]
        returns, last, mask, discounts = n_step_targets(stream.rewards[p], stream.dones[p], stream.truncated[p], 0.9, 3)
        boot_obs, buf_returns, buf_dones, buf_discounts = buffer._n_step(idx, np.zeros_like(idx), None)
        np.testing.assert_allclose(buf_returns[:, 0], returns, rtol=1e-5)
        np.testing.assert_allclose(buf_discounts[:, 0], discounts, rtol=1e-5)
        np.testing.assert_array_equal(1 - buf_dones[:, 0], mask)
        np.testing.assert_array_equal(boot_obs, next_obs[p][last])
        assert last[-1] == len(idx) - 1  # the piece's last transition bootstraps from its own next_obs
    env.close()


def test_add_stream_needs_a_single_env_buffer():
    from gymnasium import spaces

    space = spaces.Box(0, 1, (3,), np.float32)
    buffer = PrioritizedReplayBuffer(16, space, spaces.Discrete(2), device="cpu", n_envs=2)
    with pytest.raises(ValueError, match="n_envs=1"):
        buffer.add_stream(np.zeros((1, 3)), np.zeros((1, 3)), np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1))


@pytest.mark.parametrize("noisy", [True, False])
def test_an_actor_with_a_noisy_network_explores_by_its_noise(noisy):
    from sb3_atari_ext.apex.actor import ApexActor
    from sb3_atari_ext.apex.envs import space_signature
    from sb3_atari_ext.ddqn_prio.policies import DDQNPrioPolicy

    factory = EnvFactory("CartPole-v1")
    probe = factory.make(1, seed=0)
    spaces = space_signature(probe.observation_space, probe.action_space)
    probe.close()
    kwargs = dict(net_arch=[32], noisy=noisy, noisy_sigma=2.0)
    actor = ApexActor(0, factory, 1, 0, DDQNPrioPolicy, kwargs, spaces, epsilon=0.0, n_steps=1, gamma=0.99, block_size=4)
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    choices = np.stack([actor._act(obs) for _ in range(12)])  # epsilon 0: only the noise can change an action
    changed = (choices != choices[0]).any(axis=0).mean()
    assert (changed > 0.2) if noisy else (changed == 0.0), changed
