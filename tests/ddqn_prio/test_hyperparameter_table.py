"""One validation table per algorithm: any value of any hyperparameter either builds a model that
trains, or is refused before anything is built with an error naming the key (property-based)."""

import math

import gymnasium as gym
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sb3_atari_ext import A3C, DDQNPrio, Rainbow, SplitQ
from sb3_atari_ext.common.q_learning import NonFiniteLossError
from sb3_atari_ext.common.validation import HyperparameterError
from tests.envs import Counter

pytestmark = pytest.mark.slow  # hundreds of small trainings

Q_KEYS = [
    "learning_rate", "gamma", "batch_size", "buffer_size", "learning_starts", "tau", "train_freq", "gradient_steps",
    "target_update_interval", "exploration_fraction", "exploration_initial_eps", "exploration_final_eps",
    "max_grad_norm", "alpha", "beta", "beta_final", "priority_eps", "priority_clip", "n_steps",
]  # fmt: skip
A3C_KEYS = ["learning_rate", "n_steps", "gamma", "gae_lambda", "ent_coef", "vf_coef", "max_grad_norm", "rms_prop_eps",
            "rms_prop_alpha", "optimizer"]  # fmt: skip
VALUES = st.one_of(
    st.integers(-3, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-2.0, 2.0),
    st.sampled_from([None, True, "abc", "lin_0.001", "", [1, "step"], (2, "episode"), (0, "step")]),
)
SMALL = dict(buffer_size=200, learning_starts=10, batch_size=8, device="cpu", seed=0)


def env():
    return gym.wrappers.TimeLimit(Counter(), max_episode_steps=20)


def _builds_and_trains_or_names_the_key(make, key, value):
    try:
        model = make(key, value)
    except HyperparameterError as exc:
        # buffer_size >= batch_size is one rule over two keys
        assert exc.key.split(".")[0] in {key, "buffer_size", "batch_size"}, (key, value, exc)
        assert repr(exc.value) in str(exc) or exc.value is value
        return
    try:
        model.learn(40)
    except NonFiniteLossError:  # e.g. learning_rate 1e300: stopped with its own clear error
        assert isinstance(value, (int, float)) and (not math.isfinite(value) or abs(value) > 1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(algo=st.sampled_from([DDQNPrio, Rainbow, SplitQ]), key=st.sampled_from(Q_KEYS), value=VALUES)
def test_q_learning_hyperparameters(algo, key, value):
    if algo is SplitQ and key == "n_steps":
        return  # split_q is one-step by construction (not an argument)

    def make(k, v):
        return algo("MlpPolicy", env(), **{**SMALL, k: v})

    _builds_and_trains_or_names_the_key(make, key, value)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(A3C_KEYS), value=VALUES)
@example(key="learning_rate", value=3.402823466385289e38)  # above float32: torch's RMSprop overflowed
def test_a3c_hyperparameters(key, value):
    from stable_baselines3.common.env_util import make_vec_env

    def make(k, v):
        kwargs = dict(lstm_hidden_size=8, net_arch=dict(pi=[8], vf=[8]))
        return A3C("MlpLstmPolicy", make_vec_env(env, n_envs=2), **{k: v}, policy_kwargs=kwargs, device="cpu", seed=0)

    _builds_and_trains_or_names_the_key(make, key, value)


@pytest.mark.parametrize(
    "key, value",
    [("gradient_steps", 0), ("exploration_final_eps", 1.5), ("exploration_fraction", 0.0), ("target_update_interval", -1),
     ("learning_starts", float("nan")), ("tau", 2.0), ("max_grad_norm", 0.0), ("train_freq", "abc"),
     ("target_update_interval", "abc"), ("learning_rate", "abc")],
)  # fmt: skip
def test_the_values_that_used_to_train_silently_are_refused(key, value):
    with pytest.raises(HyperparameterError) as excinfo:
        DDQNPrio("MlpPolicy", env(), **{**SMALL, key: value})
    assert excinfo.value.key == key and key in str(excinfo.value)
