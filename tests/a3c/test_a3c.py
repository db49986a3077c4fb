"""A3C: LSTM state handling, returns and advantages, learning, extractors, save/load, sampler."""

import ale_py
import gymnasium as gym
import numpy as np
import optuna
import pytest
import torch as th
from gymnasium.wrappers import TimeLimit
from sb3_contrib.common.recurrent.type_aliases import RNNStates
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.env_util import make_atari_env, make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack, VecTransposeImage

from sb3_atari_ext import A3C
from sb3_atari_ext.a3c.a3c import lstm_step
from sb3_atari_ext.a3c.search import sample_a3c_params
from sb3_atari_ext.common.validation import HyperparameterError
from sb3_atari_ext.torch_layers import SmallCNN, TransformerExtractor
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


@pytest.mark.parametrize("reuse_graph", [True, False])
def test_returns_and_advantages_match_a_hand_computation_with_terminal_and_truncated_steps(reuse_graph):
    gamma, c = 0.9, 0.5
    # env 0 terminates after 3 steps; env 1 is truncated after 2 steps by a time limit
    env = DummyVecEnv([lambda: Counter(terminate_at=3), lambda: TimeLimit(Counter(), max_episode_steps=2)])
    model = A3C(
        "MlpLstmPolicy",
        env,
        n_steps=5,
        gamma=gamma,
        gae_lambda=1.0,
        policy_kwargs=SMALL,
        seed=0,
        reuse_rollout_graph=reuse_graph,
    )
    assert model.uses_rollout_graph() == reuse_graph
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


def atari(n_envs=2):
    gym.register_envs(ale_py)
    env = make_atari_env("BreakoutNoFrameskip-v4", n_envs=n_envs, seed=0, vec_env_cls=DummyVecEnv)
    return VecTransposeImage(VecFrameStack(env, n_stack=4))


TINY_CNN = dict(features_extractor_class=SmallCNN, features_extractor_kwargs=dict(features_dim=32), lstm_hidden_size=16)


@pytest.mark.parametrize("policy, make_env, kwargs", [("MlpLstmPolicy", cartpole, SMALL), ("CnnLstmPolicy", atari, TINY_CNN)])
def test_reusing_the_rollout_graph_gives_the_same_updates_as_evaluating_the_stored_rollout(policy, make_env, kwargs):
    params, rewards = [], []
    for reuse in (True, False):  # one after the other: each constructor seeds torch the same way
        model = A3C(policy, make_env(), n_steps=4, seed=0, policy_kwargs=kwargs, reuse_rollout_graph=reuse)
        assert model.uses_rollout_graph() == reuse
        start = [p.detach().clone() for p in model.policy.parameters()]
        model.learn(3 * 2 * 4)  # three updates
        assert model._n_updates == 3
        params.append([p.detach().clone() for p in model.policy.parameters()])
        rewards.append(model.rollout_buffer.rewards.copy())
    np.testing.assert_array_equal(rewards[0], rewards[1])  # same actions were drawn, so the same game
    assert any(not th.equal(p, q) for p, q in zip(start, params[1], strict=True))  # the updates did something
    for fast, stored in zip(*params, strict=True):
        th.testing.assert_close(fast, stored, atol=2e-5, rtol=1e-4)


def test_the_fast_path_is_skipped_where_acting_and_training_modes_differ():
    dropout = dict(features_extractor_class=TransformerExtractor, features_extractor_kwargs=dict(dropout=0.1))
    model = A3C("CnnLstmPolicy", atari(), n_steps=2, seed=0, policy_kwargs=dict(dropout, lstm_hidden_size=16))
    assert not model.uses_rollout_graph()
    model.learn(2 * 2)  # sb3-contrib's stored-rollout path still trains it
    assert model._n_updates == 1
    assert not A3C("MlpLstmPolicy", cartpole(), policy_kwargs=dict(SMALL, shared_lstm=False)).uses_rollout_graph()


def test_lstm_step_matches_the_lstm_module():
    lstm = th.nn.LSTM(6, 5, num_layers=2)
    x, h, c = th.randn(3, 6), th.randn(2, 3, 5), th.randn(2, 3, 5)
    out, h_new, c_new = lstm_step(lstm, x, h, c)
    expected, (h_ref, c_ref) = lstm(x.unsqueeze(0), (h, c))
    th.testing.assert_close(out, expected[0])
    th.testing.assert_close(h_new, h_ref)
    th.testing.assert_close(c_new, c_ref)


def test_foreach_rmsprop_matches_sb3s():
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike as SB3RMSprop

    from sb3_atari_ext.common.optim import RMSpropTFLike

    gen = th.Generator().manual_seed(0)
    init = [th.randn(4, 3, generator=gen), th.randn(3, generator=gen)]
    nets = [[th.nn.Parameter(t.clone()) for t in init] for _ in range(2)]
    optimizers = [cls(net, lr=0.01, alpha=0.99, eps=0.1) for cls, net in zip((RMSpropTFLike, SB3RMSprop), nets, strict=True)]
    for _ in range(3):
        grads = [th.randn(t.shape, generator=gen) for t in init]
        for net, optimizer in zip(nets, optimizers, strict=True):
            for p, g in zip(net, grads, strict=True):
                p.grad = g.clone()
            optimizer.step()
    for ours, theirs in zip(*nets, strict=True):
        th.testing.assert_close(ours, theirs)
    assert not th.equal(nets[0][0], init[0])
    assert optimizers[0].state[nets[0][0]]["step"] == 3


def test_value_loss_trains_the_shared_trunk():
    model = A3C("MlpLstmPolicy", cartpole(), policy_kwargs=SMALL, seed=0)
    policy = model.policy
    assert policy.shared_lstm and policy.lstm_critic is None
    obs, states = th.randn(3, 4), random_states(policy, 3)
    values, _, _ = policy.evaluate_actions(obs, th.zeros(3, dtype=th.long), states, th.zeros(3))
    values.sum().backward()
    assert policy.lstm_actor.weight_ih_l0.grad.abs().sum() > 0  # sb3-contrib's shared LSTM would get none


@pytest.mark.slow
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


def test_optimizer_choice_torch_rmsprop_by_default_adam_and_the_papers_rmsprop_on_request():
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

    model = A3C("MlpLstmPolicy", cartpole(), policy_kwargs=SMALL)
    assert type(model.policy.optimizer) is th.optim.RMSprop and model.policy.optimizer.defaults["eps"] == 1e-5
    assert model.policy.optimizer.defaults["alpha"] == 0.99
    assert (model.n_steps, model.ent_coef, model.max_grad_norm, model.gae_lambda) == (5, 0.01, 40.0, 1.0)
    adam = A3C("MlpLstmPolicy", cartpole(), optimizer="adam", policy_kwargs=SMALL)
    assert type(adam.policy.optimizer) is th.optim.Adam and adam.policy.optimizer.defaults["eps"] == 1e-5
    paper = A3C("MlpLstmPolicy", cartpole(), optimizer="rmsprop_tf", policy_kwargs=SMALL)
    assert isinstance(paper.policy.optimizer, RMSpropTFLike)
    assert paper.policy.optimizer.defaults["eps"] == 0.1 and paper.policy.optimizer.defaults["alpha"] == 0.99


def _entropy_after(optimizer, steps):
    from tests.envs import Bandit

    env = make_vec_env(Bandit, n_envs=4, seed=0)
    model = A3C("MlpLstmPolicy", env, optimizer=optimizer, learning_rate=7e-4, ent_coef=0.01, policy_kwargs=SMALL, seed=0)
    model.learn(steps)
    obs = th.ones(1, 2)
    states = (th.zeros(1, 1, 16), th.zeros(1, 1, 16))
    distribution, _ = model.policy.get_distribution(obs, states, th.ones(1))
    return float(distribution.entropy())


def test_the_first_updates_move_the_policy():
    """200 updates (4,000 steps) on a 3-armed bandit: Adam and zero-initialised RMSprop make the paying
    arm likely (entropy 0.37 and 0.19 when written); the paper's RMSprop, whose squares start at 1,
    leaves the policy uniform (ln 3 = 1.099)."""
    assert _entropy_after("adam", 4000) < 0.6
    assert _entropy_after("rmsprop", 4000) < 0.6
    assert _entropy_after("rmsprop_tf", 4000) > 1.05


@pytest.mark.parametrize(
    "bad, key",
    [
        (dict(n_steps=0), "n_steps"),
        (dict(gamma=1.5), "gamma"),
        (dict(rms_prop_eps=0.0), "rms_prop_eps"),
        (dict(optimizer="sgd"), "optimizer"),
    ],
)
def test_bad_hyperparameters_name_the_key(bad, key):
    with pytest.raises(HyperparameterError, match=key):
        A3C("MlpLstmPolicy", cartpole(), **bad)


def test_recurrent_predict_carries_the_lstm_state():
    # save/load/predict: the plugin test kit (tests/test_testing.py)
    model = A3C("MlpLstmPolicy", cartpole(), n_steps=4, policy_kwargs=SMALL, seed=0)
    obs = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    _, state = model.predict(obs, episode_start=np.ones(2, dtype=bool), deterministic=True)
    assert state[0].shape == (1, 2, 16)
    _, again = model.predict(obs, state=state, episode_start=np.zeros(2, dtype=bool), deterministic=True)
    assert not np.allclose(again[0], state[0])  # the state moved on


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


def test_atari_learning_rate_is_annealed_linearly_to_zero():
    """Mnih et al. 2016 anneal the learning rate to 0 over training: RL Zoo's ``lin_`` schedule."""
    from pathlib import Path

    import yaml
    from rl_zoo3.exp_manager import ExperimentManager

    from sb3_atari_ext.builtin import hyperparams_dir

    params = yaml.safe_load(Path(hyperparams_dir() / "a3c.yml").read_text())["atari"]
    schedule = ExperimentManager._preprocess_schedules(dict(params))["learning_rate"]
    assert schedule(1.0) == pytest.approx(7e-4)
    assert schedule(0.5) == pytest.approx(3.5e-4)
    assert schedule(0.0) == 0.0


def test_non_finite_weights_stop_with_the_clear_error():
    from sb3_atari_ext.common.q_learning import NonFiniteLossError

    for reuse in (True, False):
        model = A3C("MlpLstmPolicy", "CartPole-v1", n_steps=5, reuse_rollout_graph=reuse, device="cpu", seed=0)
        model.learn(20)
        with th.no_grad():
            next(model.policy.parameters()).fill_(float("nan"))
        with pytest.raises(NonFiniteLossError, match="not finite"):
            model.learn(20, reset_num_timesteps=False)
