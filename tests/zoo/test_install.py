"""How the bridge changes RL Zoo: one table of changes per module, all or nothing, no cycles."""

import ast
import copy
import importlib
import types
import warnings
from pathlib import Path

import pytest

from sb3_atari_ext.zoo import autoload, install
from tests.conftest import ROOT


def test_rl_zoo_uses_one_experiment_manager_subclass():
    autoload.apply()
    import rl_zoo3.exp_manager
    import rl_zoo3.train

    from sb3_atari_ext.zoo.manager import PluginExperimentManager

    assert rl_zoo3.exp_manager.ExperimentManager is PluginExperimentManager
    assert rl_zoo3.train.ExperimentManager is PluginExperimentManager
    (base,) = PluginExperimentManager.__bases__
    assert base.__module__ == "rl_zoo3.exp_manager" and base.__name__ == "ExperimentManager"
    # RL Zoo's own class is untouched: every override lives on the subclass
    overridden = {name for name in vars(PluginExperimentManager) if callable(vars(PluginExperimentManager)[name])}
    assert {"__init__", "learn", "save_trained_model", "create_envs", "objective"} <= overridden
    assert not any(hasattr(getattr(base, name, None), "__wrapped__") for name in dir(base))


def test_the_standard_library_is_not_patched():
    import argparse

    before = argparse.ArgumentParser.add_argument
    autoload.apply()
    assert argparse.ArgumentParser.add_argument is before
    assert argparse.ArgumentParser.add_argument.__module__ == "argparse"


def _copy_without(name: str, missing: str) -> types.ModuleType:
    real = importlib.import_module(name)
    module = types.ModuleType(name)
    for key, value in vars(real).items():
        if key not in (missing, install.MARK, "__name__"):
            module.__dict__[key] = copy.copy(value) if isinstance(value, dict) else value
    return module


@pytest.mark.parametrize(
    ("name", "missing", "table"),
    [
        ("rl_zoo3.hyperparams_opt", "HYPERPARAMS_CONVERTER", "HYPERPARAMS_SAMPLER"),
        ("rl_zoo3.utils", "get_model_path", "ALGOS"),
    ],
)
def test_a_failed_change_leaves_the_module_as_it_was(name, missing, table):
    # an RL Zoo release without one of the names we change: nothing of ours stays in the module
    import rl_zoo3.utils  # noqa: F401 - loads the real modules first

    module = _copy_without(name, missing)
    module.__dict__[table] = {k: v for k, v in module.__dict__[table].items() if k not in ("ddqn_prio", "split_q", "a3c")}
    before = dict(module.__dict__)
    before_table = dict(module.__dict__[table])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert install.install_into(module) is False
    (message,) = [str(w.message) for w in caught if "sb3_atari_ext" in str(w.message)]  # one warning
    assert message.startswith(f"sb3_atari_ext: plugins not added to {name} (left as it was): ") and missing in message
    assert module.__dict__.keys() == before.keys() and all(module.__dict__[k] is before[k] for k in before)
    assert module.__dict__[table] == before_table and "ddqn_prio" not in module.__dict__[table]


def _imports(path: Path) -> set[str]:
    """Modules of sb3_atari_ext.zoo that ``path`` imports, lazily or not."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "sb3_atari_ext.zoo":
                found.update(f"sb3_atari_ext.zoo.{a.name}" for a in node.names)
            elif node.module.startswith("sb3_atari_ext.zoo."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("sb3_atari_ext.zoo."))
    return found


def test_the_bridge_modules_import_each_other_without_cycles():
    folder = ROOT / "sb3_atari_ext" / "zoo"
    graph = {f"sb3_atari_ext.zoo.{p.stem}": _imports(p) - {f"sb3_atari_ext.zoo.{p.stem}"} for p in folder.glob("*.py")}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join([*path, node, nxt])}"
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])
    assert "sb3_atari_ext.zoo.autoload" not in set().union(*graph.values())  # nothing depends on the hook
