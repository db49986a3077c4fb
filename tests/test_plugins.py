import importlib.metadata
import inspect
import shutil
import types
from pathlib import Path

import pluggy
import pytest
from stable_baselines3 import DQN

from sb3_atari_ext import builtin, hookimpl, hookspecs
from sb3_atari_ext.ddqn_prio import DDQNPrio
from sb3_atari_ext.plugins import (
    ENTRY_POINT_GROUP,
    PluginConflictError,
    PluginLoadWarning,
    Registry,
    UnknownComponentError,
    get_registry,
)
from sb3_atari_ext.split_q import SplitQ

ROOT = Path(__file__).resolve().parents[1]


def plugin(**hooks):
    """A small in-test plugin: a namespace of hook implementations."""
    return types.SimpleNamespace(**{name: hookimpl(fn) for name, fn in hooks.items()})


def ep(name, value):
    return importlib.metadata.EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


@pytest.fixture
def registry():
    reg = Registry(load_entry_points=False)
    reg.register_plugin(builtin, "builtin", distribution="sb3-atari-ext")
    return reg


def test_builtin_components_come_through_the_hooks(registry):
    from sb3_atari_ext import A3C, PQN, Rainbow
    from sb3_atari_ext.apex import ApexDDQN
    from sb3_atari_ext.wrappers.ale_vector import make_ale_vector_env
    from sb3_atari_ext.wrappers.envpool import make_envpool_env

    expected = {"ddqn_prio": DDQNPrio, "split_q": SplitQ, "a3c": A3C, "apex_ddqn": ApexDDQN, "rainbow": Rainbow, "pqn": PQN}
    assert registry.names("algorithms") == expected
    assert "PrioritizedReplayBuffer" in registry.names("replay_buffers")
    assert registry.names("vec_envs") == {"envpool": make_envpool_env, "ale_vector": make_ale_vector_env}
    assert [p.name for p in registry.hyperparams_files("ddqn_prio")] == ["ddqn_prio.yml"]
    assert callable(registry.get("samplers", "ddqn_prio"))


def test_installed_entry_points_include_builtin():
    names = {e.name for e in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert "builtin" in names
    assert "ddqn_prio" in get_registry().names("algorithms")


def test_conflicting_plugin_is_disabled_with_one_warning_naming_both(registry):
    def register_algorithms(register):
        register("ddqn_prio", DQN)

    def register_wrappers(register):
        register("Harmless", lambda env: env)

    intruder = plugin(register_algorithms=register_algorithms, register_wrappers=register_wrappers)
    registry.register_plugin(intruder, "intruder", distribution="intruder-dist")
    with pytest.warns(PluginLoadWarning) as record:
        algorithms = registry.names("algorithms")
    assert len(record) == 1 and "sb3-atari-ext" in str(record[0].message) and "intruder-dist" in str(record[0].message)
    assert algorithms["ddqn_prio"] is DDQNPrio  # the earlier plugin keeps the name
    assert "Harmless" not in registry.names("wrappers")  # everything of the disabled plugin is ignored
    described = {p["name"]: p for p in registry.describe()}
    assert "intruder-dist" in described["intruder"]["disabled"] and described["builtin"]["disabled"] is None


@pytest.mark.parametrize(
    "name, message",
    [
        ("PrioritizedReplayBuffer", "shadows the replay buffer of the same name"),
        ("stable_baselines3.common.atari_wrappers.AtariWrapper", "shadows the class path"),
    ],
)
def test_short_name_shadowing_another_kind_or_a_class_path_is_a_conflict(registry, name, message):
    def register_wrappers(register):
        register(name, lambda env: env)

    registry.register_plugin(plugin(register_wrappers=register_wrappers), "shadow", distribution="shadow-dist")
    with pytest.warns(PluginLoadWarning, match=message):
        wrappers = registry.names("wrappers")
    assert name not in wrappers and registry.plugins["shadow"].disabled is not None


def test_plugin_that_fails_to_import_is_isolated_with_one_warning(registry):
    with pytest.warns(PluginLoadWarning, match="'broken'") as record:
        registry.load_entry_points(
            [ep("broken", "sb3_atari_ext_no_such_module:plugin"), ep("builtin", "sb3_atari_ext.builtin")]
        )
    assert len(record) == 1
    assert registry.plugins["broken"].error is not None
    assert "ddqn_prio" in registry.names("algorithms")


def test_strict_mode_makes_load_failures_fatal(registry, monkeypatch):
    monkeypatch.setenv("SB3_ATARI_EXT_STRICT", "1")
    with pytest.raises(RuntimeError, match="broken"):
        registry.load_entry_points([ep("broken", "sb3_atari_ext_no_such_module")])


def test_only_named_plugins_are_loaded(monkeypatch):
    monkeypatch.setenv("SB3_ATARI_EXT_PLUGINS", "builtin")
    reg = Registry(load_entry_points=False)
    reg.load_entry_points([ep("builtin", "sb3_atari_ext.builtin"), ep("other", "sb3_atari_ext_no_such_module")])
    assert list(reg.plugins) == ["builtin"]


def test_a_failing_hook_warns_and_the_rest_still_works(registry):
    def register_algorithms(register):
        raise RuntimeError("boom")

    registry.register_plugin(plugin(register_algorithms=register_algorithms), "flaky")
    with pytest.warns(PluginLoadWarning, match="flaky"):
        algos = registry.names("algorithms")
    assert "ddqn_prio" in algos


def test_entries_of_the_wrong_type_are_refused(registry):
    def register_replay_buffers(register):
        register("NotABuffer", dict)

    registry.register_plugin(plugin(register_replay_buffers=register_replay_buffers), "wrongtype")
    with pytest.warns(PluginLoadWarning, match="ReplayBuffer"):
        assert "NotABuffer" not in registry.names("replay_buffers")


def test_misspelled_hook_is_caught(registry):
    with pytest.raises(pluggy.PluginValidationError):
        registry.register_plugin(plugin(register_algorithm=lambda register: None), "typo")


def test_unknown_name_lists_known_names_and_providers(registry):
    with pytest.raises(UnknownComponentError) as info:
        registry.get("algorithms", "ddqn_nope")
    assert "ddqn_prio (sb3-atari-ext)" in str(info.value)


def test_policy_alias_is_added_to_its_algorithm_only(registry):
    from sb3_atari_ext.ddqn_prio.policies import DDQNPrioPolicy

    class MyDDQN(DDQNPrio):
        pass

    def register_algorithms(register):
        register("my_ddqn", MyDDQN)

    def register_policies(register):
        register("my_ddqn", "FancyPolicy", DDQNPrioPolicy)

    registry.register_plugin(plugin(register_algorithms=register_algorithms, register_policies=register_policies), "mine")
    algos = registry.algorithms()
    assert algos["my_ddqn"].policy_aliases["FancyPolicy"] is DDQNPrioPolicy
    assert "FancyPolicy" not in DDQNPrio.policy_aliases and "FancyPolicy" not in DQN.policy_aliases


def test_loading_is_idempotent(registry):
    registry.register_plugin(builtin, "builtin", distribution="sb3-atari-ext")
    registry.load_entry_points([ep("builtin", "sb3_atari_ext.builtin")])
    assert set(registry.names("algorithms")) == {"ddqn_prio", "split_q", "a3c", "apex_ddqn", "rainbow", "pqn"}


def test_describe_lists_what_each_plugin_registers(registry):
    (info,) = registry.describe()
    assert info["distribution"] == "sb3-atari-ext"
    assert info["registers"]["algorithms"] == ["a3c", "apex_ddqn", "ddqn_prio", "pqn", "rainbow", "split_q"]
    assert "register_algorithms" in info["hooks"]


def test_every_hook_is_documented_in_code_and_the_plugin_docs():
    readme = (ROOT / "docs" / "plugins.md").read_text()
    specs = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("register_")]
    assert len(specs) == 11
    for spec in specs:
        assert spec.__doc__ and spec.__doc__.strip().startswith("Register"), spec.__name__
        assert f"`{spec.__name__}" in readme, f"docs/plugins.md does not document {spec.__name__}"


def test_hyperparams_of_one_algorithm_from_two_plugins_merge_and_clash_clearly(registry, tmp_path):
    from sb3_atari_ext.zoo.yaml_merge import merge_hyperparams

    extra, clash = tmp_path / "extra.yml", tmp_path / "clash.yml"
    extra.write_text("MsPacmanNoFrameskip-v4:\n  gamma: 0.95\n")
    clash.write_text("CartPole-v1:\n  gamma: 0.5\n")

    def register_hyperparams(register):
        register("ddqn_prio", extra)

    registry.register_plugin(plugin(register_hyperparams=register_hyperparams), "extra")
    files = registry.hyperparams_files("ddqn_prio")
    assert [f.name for f in files] == ["ddqn_prio.yml", "extra.yml"]
    import yaml

    path = merge_hyperparams(files, "ddqn_prio")
    merged = yaml.safe_load(path.read_text())
    shutil.rmtree(path.parent)  # RL Zoo runs remove it after reading (the bridge's setup_experiment)
    assert {"atari", "CartPole-v1", "MsPacmanNoFrameskip-v4"} <= set(merged)
    with pytest.raises(PluginConflictError, match="'CartPole-v1' are defined twice") as info:
        merge_hyperparams([*files, clash], "ddqn_prio")
    assert "ddqn_prio.yml" in str(info.value) and "clash.yml" in str(info.value)


def test_plugin_envs_are_registered_with_gymnasium_and_conflicts_are_errors(registry):
    import gymnasium as gym

    class EnvPlugin:
        @hookimpl
        def register_envs(self, register):
            register("sb3ext/Chain-v0", "tests.envs:BlindCliffwalk", kwargs={"n_states": 3}, max_episode_steps=10)

    registry.register_plugin(EnvPlugin(), "envs-test")
    assert "sb3ext/Chain-v0" in registry.register_envs()
    env = gym.make("sb3ext/Chain-v0")
    assert env.unwrapped.n_states == 3 and env.spec.max_episode_steps == 10
    assert "sb3ext/Chain-v0" in registry.register_envs()  # idempotent

    class Clash:
        @hookimpl
        def register_envs(self, register):
            register("CartPole-v1", "tests.envs:BlindCliffwalk")

    registry.register_plugin(Clash(), "clash")
    with pytest.raises(PluginConflictError, match="CartPole-v1"):
        registry.register_envs()
