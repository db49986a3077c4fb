"""The upstream failures the bridge recognises by their message text still read that way.

``sb3_atari_ext.zoo.errors.UPSTREAM_MESSAGES`` lists every failure of SB3, RL Zoo or Python that
the bridge can only tell by its text. Each case below makes the real upstream code raise it (RL
Zoo's ``train()`` in this process, with ``SB3_ATARI_EXT_DEBUG=1`` so that the bridge re-raises the
original exception): if an upstream release rewords a message, its case fails here, instead of a
user's clean error line turning back into a traceback.
"""

import sys

import pytest

from sb3_atari_ext.zoo.errors import UPSTREAM_MESSAGES, _upstream, describe

CASES = {
    # dqn / qrdqn get the bridge's own checks first; SAC (no table of its own) still reaches SB3's
    "sb3_train_freq": ["--algo", "sac", "--env", "Pendulum-v1", "-params", "train_freq:0", "learning_starts:0"],
    "zoo_env_id": ["--env", "CartPol-v1"],
    "zoo_yaml_not_mapping": ["--conf-file", "list.yml"],
    "python_unknown_keyword": ["-params", "foo_bar:1"],
    "zoo_empty_wrapper": ["-params", "env_wrapper:'NoSuchWrapper'"],
    "zoo_schedule_no_underscore": ["-params", "learning_rate:'abc'"],
    "zoo_schedule_not_number": ["-params", "learning_rate:'lin_abc'"],
    "zoo_schedule_type": ["-params", "learning_rate:[1]"],
    "python_missing_argument": ["--conf-file", "nopolicy.yml"],
    "zoo_no_entry": ["--conf-file", "otherenv.yml"],
}


def test_every_recognised_message_has_a_case():
    assert set(CASES) == set(UPSTREAM_MESSAGES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_upstream_still_raises_what_the_bridge_recognises(name, tmp_path, monkeypatch):
    from rl_zoo3.train import train

    monkeypatch.chdir(tmp_path)
    (tmp_path / "list.yml").write_text("- a\n- b\n")
    (tmp_path / "nopolicy.yml").write_text("CartPole-v1:\n  n_timesteps: 100\n")
    (tmp_path / "otherenv.yml").write_text("Pendulum-v1:\n  policy: MlpPolicy\n")
    monkeypatch.setenv("SB3_ATARI_EXT_DEBUG", "1")  # the original exception, not the bridge's line
    argv = ["rl_zoo3.train", "--algo", "dqn", "--env", "CartPole-v1", "-n", "64", "-f", "logs", "--eval-freq", "-1"]
    monkeypatch.setattr(sys, "argv", [*argv, *CASES[name]])
    with pytest.raises(Exception) as raised:  # noqa: PT011 - which exception is what is tested
        train()
    kind, text, source = UPSTREAM_MESSAGES[name]
    assert _upstream(raised.value, name), f"{source}: expected {kind.__name__} with {text!r}, got {raised.value!r}"
    line = describe(raised.value, None)
    assert "SB3_ATARI_EXT_DEBUG" not in line, line  # a line of its own, not the generic fallback
