"""Hatch build hook: editable installs get only the autoload .pth forced in.

A plain wheel gets the .pth and the ``hyperparams/`` folder (see ``pyproject.toml``). An editable
install must not copy ``hyperparams/`` into site-packages: the package is imported from the
checkout, which has the real folder, and a stale copy would shadow edits.
"""

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            build_data["force_include_editable"] = {
                "sb3_atari_ext/zoo/sb3_atari_ext_autoload.pth": "sb3_atari_ext_autoload.pth",
            }
