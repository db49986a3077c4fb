"""The plugin test kit (``sb3_atari_ext.testing``): our own components pass it, and it names what is
broken in a plugin that is. Each plugin under ``plugins/`` runs it on itself in its ``tests/``."""

import os
import subprocess
import sys
import textwrap

import pytest

from sb3_atari_ext.plugins import get_registry
from sb3_atari_ext.testing import PluginCheckError, check_component, check_plugin, plugin_components

BUILTIN = plugin_components("builtin")


@pytest.mark.parametrize(("kind", "name"), BUILTIN)
@pytest.mark.slow
def test_every_builtin_component_passes_the_contract(kind, name, request):
    if name == "apex_ddqn":  # its actors join the session's Ray instance
        request.getfixturevalue("ray_cluster")
    # algorithms and policies: train, save, load, same predictions; buffers under SB3's DQN; ...
    result = check_component("builtin", kind, name)
    assert result.ok and result.seconds > 0


def test_every_plugin_in_the_repository_runs_the_kit_on_itself():
    from tests.conftest import ROOT

    for folder in sorted((ROOT / "plugins").iterdir()):
        name = folder.name.removeprefix("sb3-atari-")
        text = (folder / "tests" / f"test_{name}_plugin.py").read_text()
        assert f'plugin_components("{name}")' in text and name in get_registry().plugins


def test_the_registry_is_covered():
    kinds = {kind for kind, _ in BUILTIN}
    expected = {"algorithms", "policies", "replay_buffers", "feature_extractors", "wrappers", "samplers", "hyperparams"}
    assert expected <= kinds
    assert {"ddqn_prio", "rainbow", "split_q", "a3c"} <= {name for kind, name in BUILTIN if kind == "algorithms"}


BROKEN_PLUGIN = '''
from pathlib import Path

import gymnasium as gym
from stable_baselines3 import DQN

from sb3_atari_ext import hookimpl


class Forgetful(DQN):
    """Flips its actions after learning, and does not save that it does."""

    def learn(self, *args, **kwargs):
        self.flip = True
        return super().learn(*args, **kwargs)

    def _excluded_save_params(self):
        return [*super()._excluded_save_params(), "flip"]

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        actions, state = super().predict(observation, state, episode_start, deterministic)
        return (1 - actions if getattr(self, "flip", False) else actions), state


class Needy(gym.Wrapper):
    def __init__(self, env, level):
        super().__init__(env)


@hookimpl
def register_algorithms(register):
    register("forgetful", Forgetful)


@hookimpl
def register_wrappers(register):
    register("Needy", Needy)


@hookimpl
def register_hyperparams(register):
    register("forgetful", Path(__file__).with_name("forgetful.yml"))
'''


def test_a_broken_plugin_is_reported_component_by_component(tmp_path):
    site = tmp_path / "site"
    dist = site / "broken_kit-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-kit\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[sb3_atari_ext]\nbroken = broken_kit\n")
    (site / "broken_kit.py").write_text(BROKEN_PLUGIN)
    (site / "forgetful.yml").write_text("CartPole-v1:\n  policy: MlpPolicy\n  lerning_rate: 0.001\n")
    code = textwrap.dedent("""
        from sb3_atari_ext.testing import check_plugin
        for result in check_plugin("broken", raise_errors=False):
            print(result)
        check_plugin("broken")
    """)
    env = {**os.environ, "PYTHONPATH": str(site), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    lines = result.stdout.splitlines()
    assert any(line.startswith("FAIL algorithm 'forgetful'") and "the loaded model predicts" in line for line in lines)
    assert any(line.startswith("FAIL wrapper 'Needy'") and "needs level" in line for line in lines)
    assert any(line.startswith("FAIL hyperparameter file 'forgetful'") and "lerning_rate" in line for line in lines)
    assert result.returncode != 0 and "PluginCheckError: 3 of 3 components of plugin 'broken' failed" in result.stderr


def test_an_unknown_plugin_is_named():
    with pytest.raises(ValueError, match="no plugin named 'nope' is installed; installed: builtin"):
        check_plugin("nope")
    assert issubclass(PluginCheckError, AssertionError)  # pytest shows it as a failed assertion
