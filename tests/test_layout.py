"""The package's import directions (docs/layout.md): a lower layer never imports a higher one,
whether at module level or inside a function."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sb3_atari_ext"

#: low to high; a module may import its own layer and the layers below it
LAYERS = [
    {"version", "hookspecs", "common"},
    {"plugins", "torch_layers", "buffers", "wrappers"},
    {"ddqn_prio", "rainbow", "split_q", "a3c", "apex", "pqn", "switcher", "__init__"},
    {"builtin", "testing"},
    {"zoo"},
    {"analysis"},
    {"dashboard", "benchmark"},
    {"cli"},
]
LAYER_OF = {room: level for level, rooms in enumerate(LAYERS) for room in rooms}


def room(module: str) -> str:
    """``sb3_atari_ext.zoo.manager`` -> ``zoo``; ``sb3_atari_ext`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "sb3_atari_ext" and node.level == 0:
            # from sb3_atari_ext import zoo (a room) / A3C (a name of the package's lazy facade)
            found += [(f"sb3_atari_ext.{a.name}" if a.name in LAYER_OF else "sb3_atari_ext", node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return [(name, line) for name, line in found if name == "sb3_atari_ext" or name.startswith("sb3_atari_ext.")]


def test_every_room_has_a_layer():
    modules = [p for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()]
    rooms = {p.stem if p.is_file() else p.name for p in modules}
    assert rooms - set(LAYER_OF) == set()


def test_no_lower_layer_imports_a_higher_one():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        source = room(".".join(relative.parts))
        for module, line in imports_of(path):
            target = room(module)
            if target in LAYER_OF and LAYER_OF[target] > LAYER_OF[source]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({source}) imports {module} ({target})")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_violation(tmp_path):
    fake = tmp_path / "x.py"
    fake.write_text("def f():\n    from sb3_atari_ext.zoo import manager\n")
    assert imports_of(fake) == [("sb3_atari_ext.zoo", 2)]
    assert LAYER_OF[room("sb3_atari_ext.zoo")] > LAYER_OF[room("sb3_atari_ext.ddqn_prio.ddqn_prio")]
