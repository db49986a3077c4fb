"""``zoo/errors.py`` recognises some upstream failures by their message text. Each pattern is
checked against the exception the upstream code really raises today, so a rewording upstream
fails here instead of turning a clean line back into a traceback."""

import importlib
from types import SimpleNamespace

import pytest
import yaml

from sb3_atari_ext.zoo.errors import describe

MANAGER = SimpleNamespace(algo="ddqn_prio", custom_hyperparams={}, config_label="hyperparams/ddqn_prio.yml")


def raised(action):
    try:
        action()
    except BaseException as exc:  # noqa: BLE001 - whatever the upstream code raises
        return exc
    raise AssertionError("nothing was raised")


def test_unknown_constructor_argument_names_the_key():
    from stable_baselines3 import DQN

    exc = raised(lambda: DQN("MlpPolicy", "CartPole-v1", bogus_key=1))
    assert describe(exc, MANAGER) == (
        "unknown hyperparameter 'bogus_key' for ddqn_prio in hyperparams/ddqn_prio.yml: it is not an argument of ddqn_prio"
    )


def test_unknown_name_in_an_evaluated_hyperparameter():
    exc = raised(lambda: eval("dict(features_extractor_class=NoSuchCNN)"))  # what RL Zoo does with policy_kwargs
    assert describe(exc, MANAGER).startswith("unknown name 'NoSuchCNN' in a hyperparameter")


def test_an_unbound_local_is_a_bug_not_an_unknown_name():
    def broken():
        if False:
            value = 1
        return value  # noqa: F821

    assert not describe(raised(broken), MANAGER).startswith("unknown name")


@pytest.mark.parametrize("module", ["", "no_such_package.wrappers"])
def test_unknown_wrapper_module(module):
    exc = raised(lambda: importlib.import_module(module))
    assert describe(exc, MANAGER).startswith("unknown wrapper or class in env_wrapper/callback")


def test_unreadable_yaml_and_a_yaml_that_is_not_a_mapping():
    assert describe(raised(lambda: yaml.safe_load("a: [")), MANAGER).startswith("cannot read the hyperparameters file")
    exc = raised(lambda: yaml.safe_load("- a\n- b").keys())  # RL Zoo reads the file's keys
    assert describe(exc, MANAGER).endswith("must be a mapping of env ids to settings")


@pytest.mark.parametrize("value", ["lin", "lin_abc", "abc"])
def test_bad_learning_rate_strings(value):
    from rl_zoo3.utils import linear_schedule

    def rl_zoo_parsing():  # RL Zoo's _preprocess_schedules: "lin_<float>" or a float
        if isinstance(value, str) and value.startswith("lin"):
            _, initial = value.split("_")
            return linear_schedule(float(initial))
        return float(value)

    assert describe(raised(rl_zoo_parsing), MANAGER).startswith("invalid learning_rate or clip_range")


def test_train_freq_of_zero_in_sb3():
    from stable_baselines3 import DQN

    model = DQN("MlpPolicy", "CartPole-v1", train_freq=0, learning_starts=0, device="cpu")
    assert describe(raised(lambda: model.learn(8)), MANAGER).startswith("invalid hyperparameter train_freq")


def test_division_by_zero_names_the_sizes():
    assert "n_envs, n_steps and batch sizes must be >= 1" in describe(raised(lambda: 1 // 0), MANAGER)


def test_anything_else_keeps_its_type_and_first_line():
    assert describe(RuntimeError("boom\nmore"), MANAGER) == "RuntimeError: boom (set SB3_ATARI_EXT_DEBUG=1 for the traceback)"
