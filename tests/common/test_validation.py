"""Property test: wrong types and ranges of hyperparameters give a clear error or a working model.

For every registered algorithm of the package (apex_ddqn is built, not trained: its learning starts
Ray actors, which tests/apex exercise), hypothesis draws values of the
wrong type and range for the keys it checks (and a few it passes on to SB3). The outcome must be
a :class:`HyperparameterError` or :class:`NonFiniteLossError` (what the RL Zoo bridge prints as one
line) or a model that builds and takes a few steps: never another exception, which would reach the user as a traceback.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sb3_atari_ext.common.q_learning import NonFiniteLossError
from sb3_atari_ext.common.validation import HyperparameterError
from sb3_atari_ext.plugins import get_registry

COMMON = ["learning_rate", "policy_kwargs"]
KEYS = {
    "ddqn_prio": ["alpha", "beta", "beta_final", "priority_eps", "n_steps", "gamma", "buffer_size", "batch_size",
                  "exploration_fraction", "target_update_interval", "learning_starts", "tau", "gradient_steps",
                  "max_grad_norm", "train_freq", *COMMON],
    "rainbow": ["n_atoms", "v_min", "v_max", "alpha", "n_steps", "exploration_final_eps", *COMMON],
    "split_q": ["reward_weight", "punish_weight", "reward_memory", "punish_memory", "bootstrap", "gamma", "alpha"],
    "a3c": ["n_steps", "gamma", "gae_lambda", "ent_coef", "vf_coef", "max_grad_norm", "rms_prop_eps", "rms_prop_alpha",
            *COMMON],
    "pqn": ["n_steps", "n_epochs", "n_minibatches", "q_lambda", "gamma", "max_grad_norm", "exploration_fraction",
            "exploration_initial_eps", *COMMON],
    "apex_ddqn": ["n_actors", "n_envs_per_actor", "block_size", "weight_sync_interval", "max_restarts", "actor_nice",
                  "actor_epsilon_base", "actor_epsilon_alpha", "status_interval", "actor_timeout", "max_replay_ratio",
                  "alpha", *COMMON],
}  # fmt: skip
ENVS = {"ddqn_prio": "CartPole-v1", "rainbow": "CartPole-v1", "a3c": "CartPole-v1", "pqn": "CartPole-v1",
        "apex_ddqn": "CartPole-v1"}  # fmt: skip
POLICIES = {"a3c": "MlpLstmPolicy"}
SMALL = {  # a few steps of each, whatever was drawn
    "a3c": lambda p: dict(n_steps=p.get("n_steps", 4)),
    "pqn": lambda p: dict(n_steps=p.get("n_steps", 4), n_minibatches=p.get("n_minibatches", 2)),
}

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)
#: what a drawn ``policy_kwargs`` becomes: a ``net_arch`` of any kind (layer sizes kept small enough to build)
net_archs = st.one_of(values, st.lists(st.integers(-2, 32), max_size=3), st.dictionaries(st.sampled_from(["pi", "vf", 1]),
                      st.lists(st.integers(-2, 32), max_size=2), max_size=2))  # fmt: skip
schedules = st.sampled_from([lambda p: -1.0, lambda p: float("nan"), lambda p: "x", lambda p: 1e-3 * p])


def _split_q_env():
    import gymnasium as gym

    from sb3_atari_ext.wrappers import SplitReward

    return SplitReward(gym.make("CartPole-v1"))


@pytest.mark.parametrize("algo", sorted(KEYS))
def test_bad_values_give_a_clear_error_or_a_working_model(algo):
    cls = get_registry().names("algorithms")[algo]

    @settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(st.dictionaries(st.sampled_from(KEYS[algo]), values, min_size=1, max_size=3), net_archs, schedules)
    def check(params, net_arch, schedule):
        if "policy_kwargs" in params:
            params["policy_kwargs"] = dict(net_arch=net_arch)
        if isinstance(params.get("learning_rate"), bool | None):
            params["learning_rate"] = schedule  # a schedule, as RL Zoo makes from lin_...
        try:
            cls.validate_hyperparams(dict(params))
        except HyperparameterError:
            return
        env = _split_q_env() if algo == "split_q" else ENVS[algo]
        if algo == "pqn":  # vectorized envs are its point: two of them
            from stable_baselines3.common.env_util import make_vec_env

            env = make_vec_env(env, n_envs=2)
        small = SMALL.get(algo, lambda p: dict(learning_starts=10, buffer_size=p.get("buffer_size", 200)))(params)
        try:
            model = cls(POLICIES.get(algo, "MlpPolicy"), env, device="cpu", **{**small, **params})
            if algo != "apex_ddqn":  # its learning starts Ray actors: tests/apex trains it for real
                model.learn(40)
        except (HyperparameterError, NonFiniteLossError):  # both are one error line through RL Zoo
            return
        except Exception as exc:  # noqa: BLE001 - this is what the property is about
            raise AssertionError(f"{algo} {params!r}: {type(exc).__name__}: {exc}") from exc

    check()
