"""``rainbow``: the C51 head (and the quantile option) on the ddqn_prio machinery, Rainbow's defaults, learning, save/load."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th

from sb3_atari_ext.common.validation import HyperparameterError
from sb3_atari_ext.ddqn_prio import DDQNPrio
from sb3_atari_ext.rainbow import CategoricalQNetwork, QuantileQNetwork, Rainbow
from sb3_atari_ext.split_q import SplitQ
from sb3_atari_ext.torch_layers import NoisyLinear
from tests.envs import BlindCliffwalk

SMALL = dict(buffer_size=1000, learning_starts=50, batch_size=16, device="cpu", seed=0)


def test_rainbow_defaults_are_hessel_et_al_table_1():
    model = Rainbow("MlpPolicy", "CartPole-v1", **SMALL)
    assert (model.n_steps, model.alpha, model.beta, model.n_atoms) == (3, 0.5, 0.4, 51)
    assert (model.v_min, model.v_max, model.target_update_interval, model.learning_rate) == (-10.0, 10.0, 8000, 6.25e-5)
    assert isinstance(model.q_net, CategoricalQNetwork) and model.q_net.value_net is not None  # dueling
    assert model.policy.optimizer.param_groups[0]["eps"] == 1.5e-4
    assert model.exploration_initial_eps == 0.0 == model.exploration_final_eps  # the noise explores
    assert th.allclose(model.q_net.support, th.linspace(-10, 10, 51))


def test_every_fully_connected_layer_is_noisy_with_noisy_extractor():
    from stable_baselines3.common.torch_layers import NatureCNN

    env = gym.make("CartPole-v1")
    model = Rainbow("MlpPolicy", env, policy_kwargs=dict(net_arch=[32]), **SMALL)
    assert not [m for m in model.q_net.modules() if type(m) is th.nn.Linear]  # every Linear is noisy
    image = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    cnn = Rainbow("CnnPolicy", _ImageEnv(image), policy_kwargs=dict(net_arch=[]), buffer_size=100, learning_starts=10,
                  device="cpu")  # fmt: skip
    assert isinstance(cnn.q_net.features_extractor, NatureCNN)
    assert isinstance(cnn.q_net.features_extractor.linear[0], NoisyLinear)  # the Nature CNN's hidden layer
    plain = DDQNPrio("CnnPolicy", _ImageEnv(image), policy_kwargs=dict(noisy=True), buffer_size=100, device="cpu")
    assert isinstance(plain.q_net.features_extractor.linear[0], th.nn.Linear)  # only with noisy_extractor


class _ImageEnv(gym.Env):
    def __init__(self, space):
        self.observation_space, self.action_space = space, gym.spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 0.0, False, False, {}


@pytest.mark.parametrize("algo", [DDQNPrio, SplitQ, Rainbow])
def test_optimizer_kwargs_reach_the_fused_adam(algo):
    model = algo("MlpPolicy", "CartPole-v1", policy_kwargs=dict(optimizer_kwargs=dict(eps=3.125e-4)), **SMALL)
    group = model.policy.optimizer.param_groups[0]
    assert isinstance(model.policy.optimizer, th.optim.Adam) and group["eps"] == 3.125e-4 and group["fused"] is True


@pytest.mark.parametrize(
    "kwargs, key",
    [
        (dict(n_atoms=1), "n_atoms"),
        (dict(n_atoms=51.0), "n_atoms"),
        (dict(v_min=5.0, v_max=5.0), "v_max"),
        (dict(v_max=float("inf")), "v_max"),
        (dict(v_min=float("nan")), "v_min"),
        (dict(alpha=-1.0), "alpha"),
        (dict(policy_kwargs=dict(n_atoms=11)), "policy_kwargs.n_atoms"),
        (dict(policy_kwargs=dict(distribution="gaussian")), "policy_kwargs.distribution"),
    ],
)
def test_bad_support_is_refused_before_anything_is_built(kwargs, key):
    with pytest.raises(HyperparameterError) as excinfo:
        Rainbow("MlpPolicy", "CartPole-v1", **{**SMALL, **kwargs})
    assert excinfo.value.key == key


def test_priorities_are_each_samples_cross_entropy():
    model = Rainbow("MlpPolicy", "CartPole-v1", **SMALL)
    model.learn(60)
    buffer = model.replay_buffer
    before = buffer.priority_stats()
    model.train(gradient_steps=5, batch_size=16)
    after = buffer.priority_stats()
    assert before != after
    losses = model.logger.name_to_value
    assert losses["train/cross_entropy_mean"] > 0 and np.isfinite(losses["train/loss"])


def test_quantile_head_trains_with_its_own_loss_and_priorities():
    model = Rainbow("MlpPolicy", "CartPole-v1", n_atoms=7, policy_kwargs=dict(distribution="quantile"), **SMALL)
    assert isinstance(model.q_net, QuantileQNetwork) and isinstance(model.q_net_target, QuantileQNetwork)
    assert th.allclose(model.q_net.taus, (th.arange(7) + 0.5) / 7)
    assert not hasattr(model.q_net, "support") and not hasattr(model.q_net, "log_probs")  # no C51 parts to misuse
    obs = th.as_tensor(np.stack([model.env.observation_space.sample() for _ in range(4)]))
    with th.no_grad():  # Q is the mean of the quantiles (dueling and noise included)
        model.policy.set_training_mode(False)
        assert model.q_net.quantiles(obs).shape == (4, 2, 7)
        assert th.allclose(model.q_net(obs), model.q_net.quantiles(obs).mean(dim=2))
    model.learn(60)
    before = model.replay_buffer.priority_stats()
    model.train(gradient_steps=5, batch_size=16)
    assert model.replay_buffer.priority_stats() != before
    logged = model.logger.name_to_value
    assert logged["train/quantile_loss_mean"] > 0 and np.isfinite(logged["train/loss"])
    assert "train/cross_entropy_mean" not in logged


@pytest.mark.parametrize(
    "n_steps, distribution, initial",
    [(1, "categorical", "uniform"), (3, "categorical", "uniform"), (3, "categorical", "zero"), (3, "quantile", "uniform")],
)
@pytest.mark.slow
def test_learns_blind_cliffwalk_with_n_step_distributional_targets(n_steps, distribution, initial):
    """Fails when the projection, the double-Q action choice, n-step discounts or terminals are wrong:
    the greedy policy must walk the whole chain and Q must approach gamma^(n-1-i). (Epsilon ends at
    0 and the buffer is small, so the uncorrected n-step returns end up on-policy.)"""
    env = BlindCliffwalk(n_states=5)
    gamma = 0.9
    model = Rainbow(
        "MlpPolicy",
        env,
        learning_rate=2e-3,
        batch_size=32,
        buffer_size=1000,
        learning_starts=100,
        gamma=gamma,
        target_update_interval=100,
        train_freq=1,
        n_steps=n_steps,
        n_atoms=21,
        v_min=0.0,
        v_max=1.0,
        exploration_initial_eps=1.0,
        exploration_final_eps=0.0,
        exploration_fraction=0.4,
        policy_kwargs=dict(net_arch=[64], noisy=False, distribution=distribution, initial_distribution=initial),
        seed=0,
        device="cpu",
    )
    model.learn(2500)
    with th.no_grad():
        q = model.q_net(th.eye(env.n_states)).numpy()
    assert np.all(q.argmax(axis=1) == env.correct), q
    np.testing.assert_allclose(q[np.arange(env.n_states), env.correct], env.optimal_q(gamma), atol=0.05)


def test_save_load_keeps_support_noise_settings_and_predictions(tmp_path):
    model = Rainbow("MlpPolicy", "CartPole-v1", n_atoms=11, v_min=-2.0, v_max=3.0, **SMALL)
    model.learn(80)
    model.save(tmp_path / "rainbow")
    loaded = Rainbow.load(tmp_path / "rainbow", device="cpu")
    assert (loaded.n_atoms, loaded.v_min, loaded.v_max) == (11, -2.0, 3.0)
    assert th.allclose(loaded.q_net.support, th.linspace(-2, 3, 11))
    obs = np.stack([model.env.observation_space.sample() for _ in range(8)])
    assert np.array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])
    assert loaded.policy.optimizer.param_groups[0]["eps"] == 1.5e-4


def test_save_load_keeps_the_quantile_head(tmp_path):
    model = Rainbow("MlpPolicy", "CartPole-v1", n_atoms=5, policy_kwargs=dict(distribution="quantile"), **SMALL)
    model.learn(80)
    model.save(tmp_path / "qr_rainbow")
    loaded = Rainbow.load(tmp_path / "qr_rainbow", device="cpu")
    assert isinstance(loaded.q_net, QuantileQNetwork) and loaded.policy.distribution == "quantile"
    obs = np.stack([model.env.observation_space.sample() for _ in range(8)])
    assert np.array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])


@pytest.mark.parametrize("policy_kwargs", [{}, dict(dueling=False, noisy=False), dict(noisy_extractor=True, net_arch=[16])])
def test_a_zero_initial_distribution_puts_every_first_distribution_on_the_atom_nearest_0(policy_kwargs, tmp_path):
    kwargs = dict(n_atoms=11, v_min=-2.2, v_max=2.8, policy_kwargs=dict(initial_distribution="zero", **policy_kwargs), **SMALL)
    model = Rainbow("MlpPolicy", "CartPole-v1", **kwargs)
    nearest = int(th.argmin(model.q_net.support.abs()))
    assert model.q_net.support[nearest].item() == pytest.approx(-0.2)  # atoms 0.5 apart from -2.2
    obs = th.as_tensor(np.stack([model.env.observation_space.sample() for _ in range(8)]))
    for net, training in ((model.q_net, False), (model.q_net, True), (model.q_net_target, False)):
        net.train(training)  # with and without the noise
        probs = net.log_probs(obs).exp()
        assert probs[:, :, nearest].min() > 0.99 and th.allclose(net(obs), th.tensor(-0.2), atol=0.05)
    uniform = Rainbow("MlpPolicy", "CartPole-v1", **{**kwargs, "policy_kwargs": policy_kwargs})
    assert uniform.q_net.log_probs(obs).exp().max() < 0.5  # the ordinary initialization: spread out
    model.save(tmp_path / "zero")
    assert Rainbow.load(tmp_path / "zero", device="cpu").policy.initial_distribution == "zero"


@pytest.mark.parametrize(
    "policy_kwargs, message",
    [(dict(initial_distribution="peaked"), "initial_distribution must be one of"),
     (dict(initial_distribution="zero", distribution="quantile"), "needs the categorical head")],
)  # fmt: skip
def test_a_bad_initial_distribution_is_refused(policy_kwargs, message):
    with pytest.raises(ValueError, match=message):
        Rainbow("MlpPolicy", "CartPole-v1", policy_kwargs=policy_kwargs, **SMALL)
