"""A3C: LSTM state handling, returns and advantages, learning, extractors, save/load, sampler."""

import numpy as np
import optuna
import pytest
import torch as th
from gymnasium.wrappers import TimeLimit
from sb3_contrib.common.recurrent.type_aliases import RNNStates
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_atari_ext import A3C
from sb3_atari_ext.common.validation import HyperparameterError
from sb3_atari_ext.zoo.samplers import sample_a3c_params
from tests.envs import Counter

SMALL = dict(lstm_hidden_size=16, net_arch=dict(pi=[16], vf=[16]))


def cartpole(n_envs=2, seed=0):
    return make_vec_env("CartPole-v1", n_envs=n_envs, seed=seed)


def random_states(policy, n_envs, seed=0):
    gen = th.Generator().manual_seed(seed)
    shape = (policy.lstm_actor.num_layers, n_envs, policy.lstm_actor.hidden_size)
    h, c = th.randn(shape, generator=gen), th.randn(shape, generator=gen)
    return RNNStates((h, c), (h.clone(), c.clone()))


def test_hidden_state_is_reset_exactly_at_episode_starts_per_env():
    model = A3C("MlpLstmPolicy", cartpole(), policy_kwargs=SMALL, seed=0)
    policy = model.policy
    obs = th.randn(2, 4)
    states = random_states(policy, 2)
    zeros = RNNStates(*[tuple(th.zeros_like(t) for t in pair) for pair in states])
    with th.no_grad():
        # env 0 starts an episode, env 1 does not
        _, values, _, new_states = policy(obs, states, th.tensor([1.0, 0.0]), deterministic=True)
        _, values_fresh, _, fresh_states = policy(obs, zeros, th.tensor([0.0, 0.0]), deterministic=True)
        _, values_kept, _, kept_states = policy(obs, states, th.tensor([0.0, 0.0]), deterministic=True)
    assert th.allclose(values[0], values_fresh[0]) and th.allclose(new_states.pi[0][:, 0], fresh_states.pi[0][:, 0])
    assert th.allclose(values[1], values_kept[1]) and th.allclose(new_states.pi[0][:, 1], kept_states.pi[0][:, 1])
    assert not th.allclose(values_fresh[1], values_kept[1])  # the state matters, so the test can fail

    # In a training sequence, an episode start in the middle resets the state there and only there.
    seq = th.randn(6, 4)
    starts = th.tensor([0.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    one = random_states(policy, 1, seed=1)
    actions = th.zeros(6, dtype=th.long)
    with th.no_grad():
        v_all, lp_all, _ = policy.evaluate_actions(seq, actions, one, starts)
        v_tail, lp_tail, _ = policy.evaluate_actions(
            seq[3:], actions[3:], RNNStates(*[tuple(th.zeros_like(t) for t in p) for p in one]), th.zeros(3)
        )
        v_head, _, _ = policy.evaluate_actions(seq[:3], actions[:3], one, th.zeros(3))
    assert th.allclose(v_all[3:], v_tail, atol=1e-6) and th.allclose(lp_all[3:], lp_tail, atol=1e-6)
    assert th.allclose(v_all[:3], v_head, atol=1e-6)


def test_rollouts_carry_the_state_and_store_it_per_step():
    model = A3C("MlpLstmPolicy", cartpole(), n_steps=4, policy_kwargs=SMALL, seed=0)
    model.learn(8 * 3)
    # after learning, the carried state is the one produced by the last step, not zeros
    assert model._last_lstm_states.pi[0].abs().sum() > 0
    # the buffer stores, for each step, the state the policy started that step from
    buf = model.rollout_buffer
    assert buf.hidden_states_pi.shape == (4, 1, 2, 16) or buf.hidden_states_pi.shape[0] == 4 * 2


def rollout(model):
    callback = CallbackList([])
    callback.init_callback(model)
    model._setup_learn(100, None)
    model.collect_rollouts(model.env, callback, model.rollout_buffer, model.n_steps)
    return model.rollout_buffer


def test_returns_and_advantages_match_a_hand_computation_with_terminal_and_truncated_steps():
    gamma, c = 0.9, 0.5
    # env 0 terminates after 3 steps; env 1 is truncated after 2 steps by a time limit
    env = DummyVecEnv([lambda: Counter(terminate_at=3), lambda: TimeLimit(Counter(), max_episode_steps=2)])
    model = A3C("MlpLstmPolicy", env, n_steps=5, gamma=gamma, gae_lambda=1.0, policy_kwargs=SMALL, seed=0)
    with th.no_grad():  # V(s) = c everywhere, so the hand computation does not depend on the LSTM
        model.policy.value_net.weight.zero_()
        model.policy.value_net.bias.fill_(c)
    buf = rollout(model)
    rewards = buf.rewards  # (n_steps, n_envs) before the buffer is flattened by get()
    # truncation bootstraps with gamma * V(terminal obs), termination does not
    expected_rewards = np.array([[1, 1], [1, 1 + gamma * c], [1, 1], [1, 1 + gamma * c], [1, 1]], dtype=np.float32)
    np.testing.assert_allclose(rewards, expected_rewards, rtol=1e-6)

    dones = np.zeros((5, 2))  # dones[t] = the episode ended at step t
    dones[2, 0] = 1  # terminated after its 3rd step
    dones[1, 1] = dones[3, 1] = 1  # truncated every 2 steps (counted as done; bootstrapped via the reward)
    returns = np.zeros((5, 2))
    for e in range(2):
        next_return = c  # bootstrap from V(s_5); the last step is not done
        for t in reversed(range(5)):
            if dones[t, e]:
                next_return = 0.0
            returns[t, e] = expected_rewards[t, e] + gamma * next_return
            next_return = returns[t, e]
    np.testing.assert_allclose(buf.returns, returns, rtol=1e-5)
    np.testing.assert_allclose(buf.advantages, returns - c, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(buf.episode_starts[:, 0], [1, 0, 0, 1, 0])
    np.testing.assert_array_equal(buf.episode_starts[:, 1], [1, 0, 1, 0, 1])


def test_value_loss_trains_the_shared_trunk():
    model = A3C("MlpLstmPolicy", cartpole(), policy_kwargs=SMALL, seed=0)
    policy = model.policy
    assert policy.shared_lstm and policy.lstm_critic is None
    obs, states = th.randn(3, 4), random_states(policy, 3)
    values, _, _ = policy.evaluate_actions(obs, th.zeros(3, dtype=th.long), states, th.zeros(3))
    values.sum().backward()
    assert policy.lstm_actor.weight_ih_l0.grad.abs().sum() > 0  # sb3-contrib's shared LSTM would get none


def test_learns_cartpole_better_than_random():
    env = cartpole(n_envs=8)
    kwargs = dict(
        SMALL, lstm_hidden_size=64, net_arch=dict(pi=[64], vf=[64]), shared_lstm=False, optimizer_class=th.optim.Adam
    )
    model = A3C(
        "MlpLstmPolicy", env, n_steps=8, learning_rate=7e-4, ent_coef=0.0, max_grad_norm=0.5, policy_kwargs=kwargs, seed=0
    )
    model.learn(30_000)
    mean_return = np.mean([info["r"] for info in model.ep_info_buffer])
    assert mean_return > 60, mean_return  # a uniform-random policy averages ~22


def test_paper_optimizer_is_the_default():
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

    model = A3C("MlpLstmPolicy", cartpole(), policy_kwargs=SMALL)
    assert isinstance(model.policy.optimizer, RMSpropTFLike)
    assert model.policy.optimizer.defaults["eps"] == 0.1 and model.policy.optimizer.defaults["alpha"] == 0.99
    assert (model.n_steps, model.ent_coef, model.max_grad_norm, model.gae_lambda) == (5, 0.01, 40.0, 1.0)


@pytest.mark.parametrize(
    "bad, key", [(dict(n_steps=0), "n_steps"), (dict(gamma=1.5), "gamma"), (dict(rms_prop_eps=0.0), "rms_prop_eps")]
)
def test_bad_hyperparameters_name_the_key(bad, key):
    with pytest.raises(HyperparameterError, match=key):
        A3C("MlpLstmPolicy", cartpole(), **bad)


def test_save_load_and_recurrent_predict(tmp_path):
    model = A3C("MlpLstmPolicy", cartpole(), n_steps=4, policy_kwargs=SMALL, seed=0)
    model.learn(64)
    model.save(tmp_path / "a3c.zip")
    loaded = A3C.load(tmp_path / "a3c.zip")
    obs = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    state = None
    starts = np.ones(2, dtype=bool)
    for _ in range(3):
        a1, s1 = model.predict(obs, state=state, episode_start=starts, deterministic=True)
        a2, s2 = loaded.predict(obs, state=state, episode_start=starts, deterministic=True)
        np.testing.assert_array_equal(a1, a2)
        np.testing.assert_allclose(s1[0], s2[0], atol=1e-6)
        state, starts = s1, np.zeros(2, dtype=bool)
    assert state[0].shape == (1, 2, 16)


def test_sampler_gives_hyperparameters_that_train():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(3):
        trial = study.ask()
        params = sample_a3c_params(trial, n_actions=2, n_envs=2, additional_args={})
        assert params["n_steps"] in (4, 8, 16, 32, 64) and 0.97 <= params["gamma"] < 1
        n_envs = params.pop("n_envs")  # RL Zoo's env count: the bridge builds that many envs for the trial
        assert n_envs in (4, 8, 16, 32)
        model = A3C("MlpLstmPolicy", cartpole(n_envs=n_envs), **params)
        model.learn(n_envs * params["n_steps"])
        assert model.num_timesteps == n_envs * params["n_steps"]
