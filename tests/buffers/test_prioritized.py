import pickle

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from scipy import stats
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer

from sb3_atari_ext.buffers import PrioritizedReplayBuffer
from sb3_atari_ext.common.validation import HyperparameterError

OBS = spaces.Box(0, 255, shape=(2, 3), dtype=np.uint8)
ACT = spaces.Discrete(4)


def fill(buffers, n_steps, n_envs, seed=0, p_done=0.1, p_trunc=0.05):
    """Feed identical random episodes (with terminations and truncations) to every buffer.

    As in SB3's off-policy loop, obs of step t+1 is next_obs of step t unless the episode ended.
    """
    rng = np.random.default_rng(seed)
    obs = rng.integers(0, 255, size=(n_envs, *OBS.shape), dtype=np.uint8)
    for _ in range(n_steps):
        next_obs = rng.integers(0, 255, size=(n_envs, *OBS.shape), dtype=np.uint8)
        action = rng.integers(0, 4, size=(n_envs,))
        reward = rng.normal(size=n_envs).astype(np.float32)
        truncated = rng.random(n_envs) < p_trunc
        done = (rng.random(n_envs) < p_done) | truncated
        infos = [{"TimeLimit.truncated": bool(t)} for t in truncated]
        for buffer in buffers:
            buffer.add(obs, next_obs, action, reward, done, infos)
        reset = rng.integers(0, 255, size=(n_envs, *OBS.shape), dtype=np.uint8)
        obs = np.where(done[:, None, None], reset, next_obs)


def test_storage_is_allocated_on_first_add():
    buffer = PrioritizedReplayBuffer(1_000_000, OBS, ACT, device="cpu")
    assert not buffer.allocated and buffer.nbytes == 0
    fill([buffer], 1, 1)
    assert buffer.allocated and buffer.frames.shape[0] >= 1_000_000


@pytest.mark.parametrize("n_envs", [1, 3])
def test_one_step_samples_match_sb3_storage(n_envs):
    ours = PrioritizedReplayBuffer(40, OBS, ACT, device="cpu", n_envs=n_envs, frame_slack=1.0)
    sb3 = ReplayBuffer(40, OBS, ACT, device="cpu", n_envs=n_envs)
    fill([ours, sb3], 57, n_envs)  # wraps around the ring
    assert ours.pos == sb3.pos and ours.full == sb3.full
    flat = np.arange(ours.buffer_size * n_envs)
    batch = ours._get_samples_at(flat, np.ones(len(flat), dtype=np.float32), None)
    b, e = np.divmod(flat, n_envs)
    np.testing.assert_array_equal(batch.observations.numpy(), sb3.observations[b, e])
    assert ours.is_valid(b, e).all()
    np.testing.assert_array_equal(batch.next_observations.numpy(), sb3.next_observations[b, e])
    np.testing.assert_array_equal(batch.actions.numpy(), sb3.actions[b, e])
    np.testing.assert_array_equal(batch.rewards.numpy().ravel(), sb3.rewards[b, e])
    np.testing.assert_array_equal(batch.dones.numpy().ravel(), sb3.dones[b, e] * (1 - sb3.timeouts[b, e]))


@pytest.mark.parametrize("n_envs", [1, 2])
def test_n_step_samples_match_sb3_nstep_buffer(n_envs):
    ours = PrioritizedReplayBuffer(30, OBS, ACT, device="cpu", n_envs=n_envs, n_steps=3, gamma=0.9, frame_slack=1.0)
    sb3 = NStepReplayBuffer(30, OBS, ACT, device="cpu", n_envs=n_envs, n_steps=3, gamma=0.9)
    fill([ours, sb3], 50, n_envs, p_done=0.2)
    batch_inds = np.arange(ours.buffer_size)
    np.random.seed(3)
    expected = sb3._get_samples(batch_inds)
    np.random.seed(3)
    env_indices = np.random.randint(0, n_envs, size=batch_inds.shape)
    got = ours._get_samples_at(batch_inds * n_envs + env_indices, np.ones(len(batch_inds), dtype=np.float32), None)
    for field in ("observations", "next_observations", "actions", "rewards", "dones", "discounts"):
        np.testing.assert_allclose(getattr(got, field).numpy(), getattr(expected, field).numpy(), rtol=1e-6, err_msg=field)


def test_n_step_return_by_hand_across_episode_end():
    buffer = PrioritizedReplayBuffer(10, OBS, ACT, device="cpu", n_steps=3, gamma=0.5)
    zeros = np.zeros((1, *OBS.shape), dtype=np.uint8)
    rewards, dones = [1.0, 2.0, 4.0, 8.0, 16.0], [False, False, True, False, False]
    obs = zeros
    for t, (r, d) in enumerate(zip(rewards, dones, strict=True)):
        buffer.add(obs, zeros + t, np.array([0]), np.array([r]), np.array([d]), [{}])
        obs = zeros + 100 if d else zeros + t
    batch = buffer._get_samples_at(np.arange(5), np.ones(5, dtype=np.float32), None)
    # t=0: 1 + .5*2 + .25*4, ends at the terminal t=2 -> done, next obs of t=2
    # t=1: 2 + .5*4 (terminal at t=2); t=2: 4 (terminal)
    # t=3: 8 + .5*16, stops at the newest transition t=4 -> bootstrap gamma^2 from next obs of t=4
    # t=4: 16, newest transition -> bootstrap gamma^1
    np.testing.assert_allclose(batch.rewards.numpy().ravel(), [3.0, 4.0, 4.0, 16.0, 16.0])
    np.testing.assert_allclose(batch.dones.numpy().ravel(), [1, 1, 1, 0, 0])
    np.testing.assert_allclose(batch.discounts.numpy().ravel(), [0.125, 0.25, 0.5, 0.25, 0.5])
    np.testing.assert_array_equal(batch.next_observations.numpy()[:, 0, 0], [2, 2, 2, 4, 4])


def test_new_transitions_get_the_max_priority():
    buffer = PrioritizedReplayBuffer(8, OBS, ACT, device="cpu", alpha=0.5, priority_eps=0.0 + 1e-9)
    fill([buffer], 2, 1)
    np.testing.assert_allclose(buffer.tree[np.arange(2)], [1.0, 1.0])
    buffer.update_priorities(np.array([0, 1]), np.array([3.0, -8.0]))
    fill([buffer], 1, 1)
    assert buffer.max_priority == pytest.approx(8.0)
    assert buffer.tree[2] == pytest.approx(8.0**0.5)


def test_priority_clip_bounds_priorities_and_the_priority_of_new_transitions():
    # Schaul et al. clip |TD error| to 1: an outlier of 8 counts as 1, and new transitions enter at 1 + eps.
    alpha, eps = 0.5, 0.01
    buffer = PrioritizedReplayBuffer(8, OBS, ACT, device="cpu", alpha=alpha, priority_eps=eps, priority_clip=1.0)
    fill([buffer], 3, 1)
    buffer.update_priorities(np.array([0, 1, 2]), th.tensor([-8.0, 0.25, 1.0]))
    np.testing.assert_allclose(buffer.tree[np.arange(3)], np.array([1.0 + eps, 0.25 + eps, 1.0 + eps]) ** alpha)
    assert buffer.max_priority == pytest.approx(1.0 + eps)
    fill([buffer], 1, 1)
    assert buffer.tree[3] == pytest.approx((1.0 + eps) ** alpha)
    unclipped = PrioritizedReplayBuffer(8, OBS, ACT, device="cpu", alpha=alpha, priority_eps=eps)
    fill([unclipped], 3, 1)
    unclipped.update_priorities(np.array([0]), np.array([-8.0]))
    assert unclipped.tree[0] == pytest.approx((8.0 + eps) ** alpha)


def test_priority_clip_applies_to_streamed_priorities():
    buffer = PrioritizedReplayBuffer(8, OBS, ACT, device="cpu", alpha=1.0, priority_eps=1e-3, priority_clip=0.5)
    obs = np.zeros((3, *OBS.shape), dtype=np.uint8)
    flat = buffer.add_stream(obs, obs, np.zeros((3, 1)), np.zeros(3), np.zeros(3, bool), np.zeros(3, bool), [2.0, -0.1, 0.5])
    np.testing.assert_allclose(buffer.tree[flat], [0.501, 0.101, 0.501])
    with pytest.raises(ValueError, match="non-finite"):
        buffer.update_priorities(flat[:1], np.array([np.nan]))


def test_buffer_pickled_before_priority_clip_existed_loads_unclipped():
    buffer = PrioritizedReplayBuffer(8, OBS, ACT, device="cpu", alpha=1.0, priority_eps=1e-3)
    fill([buffer], 4, 1)
    state = buffer.__getstate__()
    del state["priority_clip"]
    old = PrioritizedReplayBuffer.__new__(PrioritizedReplayBuffer)
    old.__setstate__(state)
    old.update_priorities(np.array([0]), np.array([5.0]))
    assert old.priority_clip is None and old.tree[0] == pytest.approx(5.001)


def test_importance_weights_by_hand():
    alpha, beta, eps = 0.7, 0.4, 0.01
    buffer = PrioritizedReplayBuffer(4, OBS, ACT, device="cpu", alpha=alpha, beta=beta, priority_eps=eps)
    fill([buffer], 4, 1)
    td = np.array([0.5, -1.0, 2.0, 0.0])
    buffer.update_priorities(np.arange(4), td)
    p = (np.abs(td) + eps) ** alpha
    probs = p / p.sum()
    w = (4 * probs) ** -beta
    np.testing.assert_allclose(buffer.importance_weights(np.arange(4)), w / w.max(), rtol=1e-6)


def test_importance_weights_are_normalized_by_the_batch_not_the_buffer():
    # One near-zero priority elsewhere in the buffer must not shrink the weights of a batch without it.
    alpha, beta, eps = 0.6, 1.0, 1e-6
    buffer = PrioritizedReplayBuffer(4, OBS, ACT, device="cpu", alpha=alpha, beta=beta, priority_eps=eps)
    fill([buffer], 4, 1)
    td = np.array([0.5, 1.0, 2.0, 0.0])
    buffer.update_priorities(np.arange(4), td)
    weights = buffer.importance_weights(np.arange(3))
    p = (np.abs(td[:3]) + eps) ** alpha
    assert weights.max() == pytest.approx(1.0)
    np.testing.assert_allclose(weights, (p / p.min()) ** -beta, rtol=1e-6)


def test_sample_is_proportional_to_priority_and_returns_weights():
    np.random.seed(0)
    buffer = PrioritizedReplayBuffer(6, OBS, ACT, device="cpu", alpha=1.0, priority_eps=1e-9)
    fill([buffer], 6, 1)
    td = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    buffer.update_priorities(np.arange(6), td)
    counts = np.zeros(6)
    for _ in range(4000):
        batch = buffer.sample(8)
        counts += np.bincount(batch.indices, minlength=6)
        assert isinstance(batch.weights, th.Tensor) and batch.weights.shape == (8, 1)
    _, p_value = stats.chisquare(counts, counts.sum() * td / td.sum())
    assert p_value > 1e-3


def test_only_written_transitions_are_sampled():
    buffer = PrioritizedReplayBuffer(1000, OBS, ACT, device="cpu", n_envs=2)
    fill([buffer], 5, 2)
    for _ in range(50):
        assert buffer.sample(32).indices.max() < 10


def test_pickle_round_trip_keeps_priorities():
    buffer = PrioritizedReplayBuffer(16, OBS, ACT, device="cpu")
    fill([buffer], 10, 1)
    buffer.update_priorities(np.arange(10), np.linspace(0.1, 3, 10))
    clone = pickle.loads(pickle.dumps(buffer))
    np.testing.assert_array_equal(clone.tree[np.arange(16)], buffer.tree[np.arange(16)])
    assert clone.max_priority == buffer.max_priority and clone.pos == buffer.pos
    np.testing.assert_array_equal(clone.frames, buffer.frames)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        (dict(alpha=-0.1), "alpha"),
        (dict(beta=1.5), "beta"),
        (dict(beta=-0.1), "beta"),
        (dict(n_steps=0), "n_steps"),
        (dict(priority_eps=0.0), "priority_eps"),
        (dict(priority_clip=0.0), "priority_clip"),
        (dict(priority_clip=-1.0), "priority_clip"),
    ],
)
def test_invalid_settings_name_key_and_value(kwargs, key):
    with pytest.raises(HyperparameterError, match=key) as info:
        PrioritizedReplayBuffer(16, OBS, ACT, device="cpu", **kwargs)
    assert repr(next(iter(kwargs.values()))) in str(info.value)


def test_works_as_replay_buffer_class_of_sb3_dqn():
    from stable_baselines3 import DQN

    model = DQN(
        "MlpPolicy",
        "CartPole-v1",
        buffer_size=500,
        learning_starts=50,
        replay_buffer_class=PrioritizedReplayBuffer,
        device="cpu",
        seed=0,
    )
    model.learn(120)
    assert isinstance(model.replay_buffer, PrioritizedReplayBuffer) and model.replay_buffer.size() == 120
