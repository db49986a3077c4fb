import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces

from sb3_atari_ext.buffers.split_reward import SplitRewardReplayBuffer
from sb3_atari_ext.common.q_learning import double_q_target, split_q_priorities, split_q_targets
from sb3_atari_ext.common.validation import HyperparameterError
from sb3_atari_ext.split_q import SplitQ, SplitQNetwork
from sb3_atari_ext.wrappers import SplitReward

ONES = th.ones(2)


def test_split_targets_by_hand_per_stream_and_joint():
    # one sample, 2 actions; streams [reward, punishment]
    online_next = th.tensor([[[1.0, 3.0], [0.0, -5.0]]])  # reward stream prefers a1, punishment prefers a0
    target_next = th.tensor([[[10.0, 20.0], [-1.0, -7.0]]])
    current_target = th.tensor([[4.0, -2.0]])
    rewards, dones = th.tensor([[2.0, -1.0]]), th.tensor([[0.0]])
    weights, memories = th.tensor([0.5, 3.0]), th.tensor([1.0, 0.25])
    per_stream = split_q_targets(online_next, target_next, current_target, rewards, dones, 0.9, weights, memories, False)
    # reward: 0.5*2 + 0.9*20 - 0*4 = 19; punishment: 3*-1 + 0.9*-1 - 0.75*-2 = -2.4
    th.testing.assert_close(per_stream, th.tensor([[19.0, -2.4]]))
    joint = split_q_targets(online_next, target_next, current_target, rewards, dones, 0.9, weights, memories, True)
    # summed online: [1, -2] -> a0 for both: reward 1 + 9 = 10; punishment -3 - 0.9 + 1.5 = -2.4
    th.testing.assert_close(joint, th.tensor([[10.0, -2.4]]))
    done = split_q_targets(
        online_next, target_next, current_target, rewards, th.tensor([[1.0]]), 0.9, weights, memories, False
    )
    # no bootstrap at the episode end; the memory term stays: punishment -3 - 0.75*-2 = -1.5
    th.testing.assert_close(done, th.tensor([[1.0, -1.5]]))


def test_memory_fixed_point_of_a_chain():
    # Repeating the target on a non-terminal chain with reward 1 converges to w r / (2 - lambda - gamma).
    gamma, memory = 0.9, th.tensor([0.5, 1.0])
    q = th.zeros(1, 2)
    for _ in range(2000):
        q = split_q_targets(q[:, :, None], q[:, :, None], q, th.ones(1, 2), th.zeros(1, 1), gamma, ONES, memory, False)
    th.testing.assert_close(q, th.tensor([[1 / (2 - 0.5 - gamma), 1 / (1 - gamma)]]))


def test_priorities_sum_absolute_stream_errors():
    current, targets = th.tensor([[-2.99, 2.0], [1.0, 0.0]]), th.zeros(2, 2)
    th.testing.assert_close(split_q_priorities(current, targets), th.tensor([4.99, 1.0]))


def test_reduces_to_double_dqn_on_the_summed_reward():
    th.manual_seed(0)
    batch, actions = 64, 5
    online_next, target_next = th.randn(batch, 2, actions), th.randn(batch, 2, actions)
    rewards, dones = th.randn(batch, 2), (th.rand(batch, 1) < 0.2).float()
    split = split_q_targets(online_next, target_next, th.randn(batch, 2), rewards, dones, 0.97, ONES, ONES, True)

    class Table(th.nn.Module):
        def __init__(self, values):
            super().__init__()
            self.values = values

        def forward(self, _obs):
            return self.values

    ddqn = double_q_target(
        Table(online_next.sum(1)), Table(target_next.sum(1)), None, rewards.sum(1, keepdim=True), dones, 0.97
    )
    th.testing.assert_close(split.sum(dim=1, keepdim=True), ddqn)


class TrapCorridor(gym.Env):
    """Action 1 takes a sure +0.5. Action 0 gives +1 and then, on the next (forced) step, -2: a
    reward-only learner prefers action 0; with both streams the agent takes action 1."""

    observation_space = spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = 0
        return np.array([1.0, 0.0], dtype=np.float32), {}

    def step(self, action):
        if self.state == 1:  # the trap springs whatever the agent does
            return np.array([0.0, 0.0], dtype=np.float32), -2.0, True, False, {}
        if int(action) == 1:
            return np.array([0.0, 0.0], dtype=np.float32), 0.5, True, False, {}
        self.state = 1
        return np.array([0.0, 1.0], dtype=np.float32), 1.0, False, False, {}


@pytest.mark.slow
def test_learns_to_avoid_the_trap_better_than_random():
    model = SplitQ(
        "MlpPolicy",
        SplitReward(TrapCorridor(), clip=False),
        learning_rate=1e-3,
        buffer_size=5000,
        learning_starts=100,
        batch_size=32,
        gamma=0.9,
        target_update_interval=50,
        train_freq=1,
        exploration_fraction=0.5,
        policy_kwargs=dict(net_arch=[32]),
        seed=0,
        device="cpu",
    )
    model.learn(2500)
    obs = th.tensor([[1.0, 0.0]])
    with th.no_grad():
        streams = model.q_net.streams(obs)[0]
    # the reward stream alone prefers the +1 path; the summed streams prefer the safe +0.5
    assert streams[0, 0] > streams[0, 1]
    assert streams.sum(0).argmax() == 1
    assert model.predict(np.array([1.0, 0.0], dtype=np.float32), deterministic=True)[0] == 1


def test_buffer_keeps_reward_parts_from_info_or_sign():
    space = spaces.Box(-1, 1, shape=(2,), dtype=np.float32)
    buffer = SplitRewardReplayBuffer(10, space, spaces.Discrete(2), device="cpu", n_envs=2)
    obs = np.zeros((2, 2), dtype=np.float32)
    buffer.add(
        obs, obs + 1, np.array([0, 1]), np.array([-3.0, 4.0]), np.array([False, False]), [{}, {"reward_parts": (5.0, -1.0)}]
    )
    np.testing.assert_array_equal(buffer.reward_parts[0], [[0.0, -3.0], [5.0, -1.0]])
    assert buffer.sample(4).rewards.shape == (4, 2)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        (dict(reward_memory=-0.5), "reward_memory"),
        (dict(punish_memory=1.5), "punish_memory"),
        (dict(punish_weight=float("nan")), "punish_weight"),
        (dict(reward_weight=-1.0), "reward_weight"),
        (dict(bootstrap="both"), "bootstrap"),
        (dict(n_steps=3), "n_steps"),
    ],
)
def test_bad_stream_settings_are_clear_errors(kwargs, key):
    with pytest.raises(HyperparameterError) as info:
        SplitQ("MlpPolicy", "CartPole-v1", device="cpu", **kwargs)
    assert info.value.key == key


def test_needs_the_split_reward_buffer():
    from stable_baselines3.common.buffers import ReplayBuffer

    with pytest.raises(HyperparameterError, match="replay_buffer_class"):
        SplitQ("MlpPolicy", "CartPole-v1", replay_buffer_class=ReplayBuffer, device="cpu")


@pytest.mark.parametrize("share", [True, False])
def test_settings_survive_save_and_load(tmp_path, share):
    # that predictions survive too is the plugin test kit's check (tests/test_testing.py)
    model = SplitQ("MlpPolicy", "CartPole-v1", buffer_size=300, reward_weight=2.0, punish_memory=0.5,
                   policy_kwargs=dict(share_features_extractor=share), device="cpu", seed=0)  # fmt: skip
    model.save(tmp_path / "m.zip")
    loaded = SplitQ.load(tmp_path / "m.zip", device="cpu")
    assert isinstance(loaded.q_net, SplitQNetwork) and (loaded.reward_weight, loaded.punish_memory) == (2.0, 0.5)
    assert (loaded.q_net.punish_features_extractor is None) == share


@pytest.mark.slow
def test_split_reward_wrapper_on_real_mspacman():
    import ale_py

    gym.register_envs(ale_py)
    env = SplitReward(gym.make("MsPacmanNoFrameskip-v4"), clip=True)
    env.reset(seed=0)
    env.action_space.seed(0)
    seen = []
    for _ in range(3000):  # past the intro music, into the maze
        _, reward, *_, info = env.step(env.action_space.sample())
        seen.append((reward, info["reward_parts"]))
    assert any(r == 1.0 and parts == (1.0, 0.0) for r, parts in seen)  # dots eaten: +10 -> (1, 0)
    assert all(parts == (max(r, 0.0), min(r, 0.0)) for r, parts in seen)


def test_works_with_the_networks_extractors():
    from sb3_atari_ext.torch_layers import TransformerExtractor
    from tests.torch_layers.test_policies import TinyImageEnv

    model = SplitQ(
        "CnnPolicy",
        TinyImageEnv.make(),
        buffer_size=200,
        learning_starts=30,
        batch_size=8,
        device="cpu",
        policy_kwargs=dict(features_extractor_class=TransformerExtractor, share_features_extractor=False),
    )
    model.learn(60)
    assert isinstance(model.q_net.features_extractor, TransformerExtractor)
    assert isinstance(model.q_net.punish_features_extractor, TransformerExtractor)
