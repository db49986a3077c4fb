"""Property test: wrong types and ranges of hyperparameters give a clear error or a working model.

For every registered algorithm that validates its hyperparameters, hypothesis draws values of the
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

KEYS = {
    "ddqn_prio": ["alpha", "beta", "beta_final", "priority_eps", "n_steps", "gamma", "buffer_size", "batch_size"],
    "split_q": ["reward_weight", "punish_weight", "reward_memory", "punish_memory", "bootstrap", "gamma", "alpha"],
    "a3c": ["n_steps", "gamma", "gae_lambda", "ent_coef", "vf_coef", "max_grad_norm", "rms_prop_eps", "rms_prop_alpha"],
}
ENVS = {"ddqn_prio": "CartPole-v1", "a3c": "CartPole-v1"}

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


def _split_q_env():
    import gymnasium as gym

    from sb3_atari_ext.wrappers import SplitReward

    return SplitReward(gym.make("CartPole-v1"))


@pytest.mark.parametrize("algo", sorted(KEYS))
def test_bad_values_give_a_clear_error_or_a_working_model(algo):
    cls = get_registry().names("algorithms")[algo]

    @settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(st.dictionaries(st.sampled_from(KEYS[algo]), values, min_size=1, max_size=3))
    def check(params):
        try:
            cls.validate_hyperparams(dict(params))
        except HyperparameterError:
            return
        env = _split_q_env() if algo == "split_q" else ENVS[algo]
        small = {"a3c": dict(n_steps=params.get("n_steps", 4))}.get(
            algo, dict(learning_starts=10, buffer_size=params.get("buffer_size", 200))
        )
        try:
            model = cls("MlpPolicy" if algo != "a3c" else "MlpLstmPolicy", env, device="cpu", **{**small, **params})
            model.learn(40)
        except (HyperparameterError, NonFiniteLossError):  # both are one error line through RL Zoo
            return
        except Exception as exc:  # noqa: BLE001 - this is what the property is about
            raise AssertionError(f"{algo} {params!r}: {type(exc).__name__}: {exc}") from exc

    check()
