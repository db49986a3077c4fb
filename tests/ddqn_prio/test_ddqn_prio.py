import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.buffers import ReplayBuffer
from torch import nn

from sb3_atari_ext import DDQNPrio
from sb3_atari_ext.buffers import PrioritizedReplayBuffer
from sb3_atari_ext.common.q_learning import NonFiniteLossError, double_q_target
from sb3_atari_ext.common.validation import HyperparameterError
from sb3_atari_ext.ddqn_prio.policies import DuelingQNetwork
from tests.envs import BlindCliffwalk

SMALL = dict(buffer_size=500, learning_starts=50, batch_size=16, train_freq=1, device="cpu", seed=0)


def test_beta_is_annealed_linearly_to_beta_final():
    model = DDQNPrio("MlpPolicy", "CartPole-v1", beta=0.4, beta_final=1.0, **SMALL)
    assert model.beta_schedule(1.0) == pytest.approx(0.4)
    assert model.beta_schedule(0.5) == pytest.approx(0.7)
    assert model.beta_schedule(0.0) == pytest.approx(1.0)


def test_beta_reaches_buffer_during_training():
    model = DDQNPrio("MlpPolicy", "CartPole-v1", beta=0.2, beta_final=1.0, **SMALL)
    model.learn(200)
    # the last train() call happens after the last step: full correction
    assert model.replay_buffer.beta == pytest.approx(1.0)
    model = DDQNPrio("MlpPolicy", "CartPole-v1", beta=0.2, beta_final=1.0, **SMALL)
    model.learn(200)
    model._current_progress_remaining = 0.75
    model.train(gradient_steps=1, batch_size=16)
    assert model.replay_buffer.beta == pytest.approx(0.4)


class FixedQ(nn.Module):
    def __init__(self, table):
        super().__init__()
        self.table = th.tensor(table, dtype=th.float32)

    def forward(self, obs):
        return self.table[obs.long().squeeze(1)]


def test_double_q_target_by_hand():
    online = FixedQ([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0]])
    target = FixedQ([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    next_obs = th.tensor([[0], [1], [1]])
    rewards = th.tensor([[1.0], [2.0], [3.0]])
    dones = th.tensor([[0.0], [0.0], [1.0]])
    discounts = th.tensor([[0.9], [0.81], [0.9]])
    got = double_q_target(online, target, next_obs, rewards, dones, discounts)
    # online argmax: state 0 -> action 1 (target 20); state 1 -> action 2 (target 60)
    expected = th.tensor([[1 + 0.9 * 20], [2 + 0.81 * 60], [3.0]])
    th.testing.assert_close(got, expected)
    # plain DQN would use max target = 30 for state 0: double Q must differ
    assert got[0, 0] != 1 + 0.9 * 30


def test_priorities_change_after_a_train_step():
    model = DDQNPrio("MlpPolicy", "CartPole-v1", **{**SMALL, "learning_starts": 1000})
    model.learn(100)  # fills the buffer, no update yet
    buffer = model.replay_buffer
    before = buffer.tree[np.arange(100)].copy()
    np.testing.assert_allclose(before, 1.0)  # all new transitions at max priority 1
    sampled = []
    original = buffer.sample
    buffer.sample = lambda *a, **k: sampled.append(original(*a, **k)) or sampled[-1]
    model.train(gradient_steps=1, batch_size=16)
    after = buffer.tree[np.arange(100)]
    changed = np.flatnonzero(after != before)
    assert set(changed) == set(sampled[0].indices.tolist())
    batch = sampled[0]
    assert np.all(after[changed] > 0) and not np.allclose(after[changed], 1.0)
    assert batch.weights.shape == (16, 1)


def test_priority_clip_bounds_the_priorities_training_writes():
    # CartPole's returns reach ~50 with a fresh network: its TD errors are far above 1.
    eps, alpha = 1e-3, 0.6
    kwargs = {**SMALL, "learning_starts": 100, "priority_eps": eps, "alpha": alpha}
    clipped = DDQNPrio("MlpPolicy", "CartPole-v1", priority_clip=1.0, **kwargs)
    assert clipped.replay_buffer.priority_clip == 1.0
    clipped.learn(600)
    written = clipped.replay_buffer.tree[np.arange(600)]
    assert written.max() <= (1.0 + eps) ** alpha * (1 + 1e-9)
    assert clipped.replay_buffer.max_priority <= 1.0 + eps
    unclipped = DDQNPrio("MlpPolicy", "CartPole-v1", **kwargs)
    unclipped.learn(600)
    assert unclipped.replay_buffer.max_priority > 1.0 + eps  # the bound above is not vacuous


def test_n_steps_reaches_the_buffer():
    model = DDQNPrio("MlpPolicy", "CartPole-v1", n_steps=3, **SMALL)
    assert isinstance(model.replay_buffer, PrioritizedReplayBuffer)
    assert model.replay_buffer.n_steps == 3 and model.n_steps == 3
    model.learn(120)
    assert model.replay_buffer.sample(8).discounts is not None


def test_n_steps_with_sb3_replay_buffer_uses_sb3_n_step_buffer():
    from stable_baselines3.common.buffers import NStepReplayBuffer

    model = DDQNPrio("MlpPolicy", "CartPole-v1", n_steps=3, replay_buffer_class=ReplayBuffer, **SMALL)
    assert isinstance(model.replay_buffer, NStepReplayBuffer) and model.replay_buffer.n_steps == 3
    model.learn(120)
    batch = model.replay_buffer.sample(64)
    assert batch.discounts is not None and float(batch.discounts.min()) < model.gamma


def test_n_steps_with_a_buffer_without_n_step_returns_is_refused():
    from sb3_atari_ext.buffers import FrameReplayBuffer

    with pytest.raises(HyperparameterError, match="FrameReplayBuffer") as info:
        DDQNPrio("MlpPolicy", "CartPole-v1", n_steps=3, replay_buffer_class=FrameReplayBuffer, **SMALL)
    assert info.value.key == "n_steps"


def test_noisy_network_explores_without_epsilon_unless_asked():
    noisy = dict(policy_kwargs=dict(noisy=True, net_arch=[16]))
    model = DDQNPrio("MlpPolicy", "CartPole-v1", **noisy, **SMALL)
    assert (model.exploration_initial_eps, model.exploration_final_eps) == (0.0, 0.0)
    model.learn(60)
    assert model.exploration_rate == 0.0
    explicit = DDQNPrio("MlpPolicy", "CartPole-v1", exploration_final_eps=0.2, **noisy, **SMALL)
    assert (explicit.exploration_initial_eps, explicit.exploration_final_eps) == (1.0, 0.2)
    plain = DDQNPrio("MlpPolicy", "CartPole-v1", **SMALL)
    assert (plain.exploration_initial_eps, plain.exploration_final_eps) == (1.0, 0.05)


def test_noisy_target_network_uses_its_own_noise(monkeypatch):
    import sb3_atari_ext.ddqn_prio.ddqn_prio as module
    from sb3_atari_ext.torch_layers.noisy import noisy_layers

    seen = []
    original = module.double_q_target

    def spy(q_net, q_net_target, *args):
        seen.append(all(layer.noisy for layer in noisy_layers(q_net_target)))
        return original(q_net, q_net_target, *args)

    monkeypatch.setattr(module, "double_q_target", spy)
    model = DDQNPrio("MlpPolicy", "CartPole-v1", policy_kwargs=dict(noisy=True, net_arch=[16]), **SMALL)
    model.learn(80)
    assert seen and all(seen)
    # acting and evaluation still use the mean target network outside the update
    assert not any(layer.noisy for layer in noisy_layers(model.q_net_target))


def test_plain_replay_buffer_gives_plain_double_dqn():
    model = DDQNPrio("MlpPolicy", "CartPole-v1", replay_buffer_class=ReplayBuffer, **SMALL)
    model.learn(120)
    assert type(model.replay_buffer) is ReplayBuffer


def test_dueling_head_combines_value_and_advantage():
    model = DDQNPrio("MlpPolicy", "CartPole-v1", policy_kwargs=dict(dueling=True, net_arch=[16]), **SMALL)
    q_net = model.q_net
    assert isinstance(q_net, DuelingQNetwork) and isinstance(model.q_net_target, DuelingQNetwork)
    obs = th.randn(5, 4)
    with th.no_grad():
        features = q_net.extract_features(obs, q_net.features_extractor)
        adv, value = q_net.q_net(features), q_net.value_net(features)
        th.testing.assert_close(q_net(obs), value + adv - adv.mean(dim=1, keepdim=True))


def test_settings_and_replay_priorities_survive_save_and_load(tmp_path):
    # that predictions survive: the plugin test kit (tests/test_testing.py)
    model = DDQNPrio("MlpPolicy", "CartPole-v1", alpha=0.5, beta=0.3, policy_kwargs=dict(dueling=True), **SMALL)
    model.learn(150)
    model.save(tmp_path / "model.zip")
    model.save_replay_buffer(tmp_path / "buffer.pkl")
    loaded = DDQNPrio.load(tmp_path / "model.zip", device="cpu")
    assert (loaded.alpha, loaded.beta, loaded.beta_final) == (0.5, 0.3, 1.0)
    assert isinstance(loaded.q_net, DuelingQNetwork)
    obs = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    # loading a model does not allocate its replay storage
    assert not loaded.replay_buffer.allocated
    loaded.load_replay_buffer(tmp_path / "buffer.pkl")
    n = 150
    np.testing.assert_array_equal(loaded.replay_buffer.tree[np.arange(n)], model.replay_buffer.tree[np.arange(n)])
    assert loaded.replay_buffer.max_priority == model.replay_buffer.max_priority


@pytest.mark.parametrize(
    "kwargs, key",
    [
        (dict(alpha=-0.5), "alpha"),
        (dict(beta=1.2), "beta"),
        (dict(beta_final=-1.0), "beta_final"),
        (dict(buffer_size=8, batch_size=32), "buffer_size"),
        (dict(replay_buffer_kwargs=dict(alpha=-1.0)), "replay_buffer_kwargs.alpha"),
        (dict(priority_clip=0.0), "priority_clip"),
        (dict(replay_buffer_kwargs=dict(priority_clip=-1.0)), "replay_buffer_kwargs.priority_clip"),
    ],
)
def test_bad_hyperparameters_raise_before_anything_is_built(kwargs, key):
    params = {**SMALL, **kwargs}
    with pytest.raises(HyperparameterError) as info:
        DDQNPrio("MlpPolicy", "CartPole-v1", **params)
    assert info.value.key == key
    assert isinstance(info.value, ValueError)


class NaNReward(gym.Wrapper):
    def step(self, action):
        obs, _, terminated, truncated, info = self.env.step(action)
        return obs, float("nan"), terminated, truncated, info


def test_non_finite_loss_stops_with_clear_error_and_finite_parameters():
    model = DDQNPrio("MlpPolicy", NaNReward(gym.make("CartPole-v1")), **SMALL)
    with pytest.raises(NonFiniteLossError, match="loss is nan"):
        model.learn(200)
    assert all(th.isfinite(p).all() for p in model.policy.parameters())


@pytest.mark.slow
def test_learns_blind_cliffwalk_optimal_q_values():
    """Fails when the double-Q target, the n-step/terminal handling or the prioritized sampling is broken."""
    env = BlindCliffwalk(n_states=6)
    gamma = 0.9
    model = DDQNPrio(
        "MlpPolicy",
        env,
        learning_rate=1e-3,
        batch_size=32,
        buffer_size=10_000,
        learning_starts=100,
        gamma=gamma,
        target_update_interval=100,
        train_freq=1,
        exploration_fraction=0.5,
        exploration_final_eps=0.1,
        policy_kwargs=dict(net_arch=[64]),
        seed=0,
        device="cpu",
    )
    model.learn(3000)
    with th.no_grad():
        q = model.q_net(th.eye(env.n_states)).numpy()
    np.testing.assert_allclose(q[np.arange(env.n_states), env.correct], env.optimal_q(gamma), atol=0.05)
    assert np.all(q.argmax(axis=1) == env.correct)


ZOO_KEYS = {"n_timesteps", "policy", "env_wrapper", "frame_stack", "n_envs", "normalize", "callback", "vec_env_wrapper"}


@pytest.mark.parametrize("entry", ["default", "atari", "CartPole-v1"])
def test_default_yaml_entries_are_valid_arguments(entry):
    import inspect
    from pathlib import Path

    import yaml

    from sb3_atari_ext.builtin import hyperparams_dir

    params = yaml.safe_load(Path(hyperparams_dir() / "ddqn_prio.yml").read_text())[entry]
    accepted = set(inspect.signature(DDQNPrio.__init__).parameters)
    unknown = set(params) - ZOO_KEYS - accepted
    assert not unknown, f"{entry}: keys DDQNPrio does not accept: {unknown}"
    DDQNPrio.validate_hyperparams(params)


def test_the_buffer_owns_alpha_and_the_model_reports_the_buffers():
    model = DDQNPrio("MlpPolicy", "CartPole-v1", alpha=0.6, replay_buffer_kwargs=dict(alpha=0.3, priority_eps=1e-3), **SMALL)
    assert model.replay_buffer.alpha == 0.3 == model.alpha and model.priority_eps == 1e-3
    assert model.priority_clip is None
    model = DDQNPrio("MlpPolicy", "CartPole-v1", priority_clip=2.0, replay_buffer_kwargs=dict(priority_clip=0.5), **SMALL)
    assert model.replay_buffer.priority_clip == 0.5 == model.priority_clip


def test_training_mode_is_set_again_after_a_direct_change():
    # the policy skips set_training_mode when nothing changed: a direct module.train() must not fool it
    model = DDQNPrio("MlpPolicy", gym.make("CartPole-v1"), learning_starts=0, policy_kwargs=dict(noisy=True))
    policy = model.policy
    policy.set_training_mode(True)
    assert all(m.training for m in policy.q_net.modules())
    policy.set_training_mode(False)
    assert not any(m.training for m in policy.q_net.modules())
    policy.q_net.train(True)  # behind the policy's back
    policy.set_training_mode(False)
    assert not any(m.training for m in policy.q_net.modules())
    policy.set_training_mode(False)  # unchanged: nothing to do, still right
    assert not any(m.training for m in policy.q_net.modules()) and not policy.training
