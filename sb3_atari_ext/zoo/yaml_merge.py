"""Default RL Zoo yaml of an algorithm when the user gives no ``--conf-file``.

A plugin ships yaml files through the ``register_hyperparams`` hook. For our algorithms (and a
plugin's) RL Zoo has no file of its own; for RL Zoo's algorithms (``dqn``, ``ppo``...) a plugin
may add entries (e.g. MinAtar settings for ``dqn``) to RL Zoo's file. Several files are merged into
one temporary yaml; the same env key in two files is an error naming both.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from sb3_atari_ext.plugins import PluginConflictError, get_registry


def merge_hyperparams(files: list[Path], algo: str) -> Path:
    """One RL Zoo yaml with the entries of ``files`` (a key in two files is an error), in a new
    temporary folder that the caller removes."""

    merged: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    for path in files:
        entries = yaml.safe_load(Path(path).read_text()) or {}
        for key, value in entries.items():
            if key in merged:
                raise PluginConflictError(
                    f"hyperparameters of {algo!r} for {key!r} are defined twice: in {origin[key]} and {path}"
                )
            merged[key], origin[key] = value, Path(path)
    out = Path(tempfile.mkdtemp(prefix="sb3_atari_ext_")) / f"{algo}.yml"
    out.write_text(yaml.safe_dump(merged))
    print(f"sb3_atari_ext: default hyperparameters of {algo} merged from {', '.join(str(f) for f in files)}")
    return out


def default_config(algo: str, zoo_default: Path) -> tuple[Path, str, Path | None] | None:
    """The yaml RL Zoo should read for ``algo`` with no ``--conf-file``: ``(path, label, temporary)``
    where ``label`` names the files as the user knows them and ``temporary`` is a merged file to
    remove once read; ``None`` when no plugin ships hyperparameters for ``algo``.

    :param zoo_default: RL Zoo's own file for ``algo`` (it exists for RL Zoo's algorithms)
    """
    files = get_registry().hyperparams_files(algo)
    if not files:
        return None if zoo_default.is_file() else class_defaults(algo)
    sources = [zoo_default, *files] if zoo_default.is_file() else files
    if len(sources) == 1:
        return sources[0], str(sources[0]), None
    merged = merge_hyperparams(sources, algo)
    return merged, " + ".join(str(f) for f in sources), merged


def class_defaults(algo: str) -> tuple[Path, str, Path]:
    """A yaml for an algorithm that no plugin ships hyperparameters for (and RL Zoo has none):
    every env trains with the class's own defaults (``MlpPolicy``, or ``CnnPolicy`` with RL Zoo's
    Atari wrappers), after one warning that says how to ship real ones."""

    print(
        f"warning: no default hyperparameters for {algo!r}: training with the class defaults; a plugin ships "
        f"its own with the register_hyperparams hook (register({algo!r}, path_to_yaml)), or pass --conf-file",
        file=sys.stderr,
    )
    entries = {
        "default": {"policy": "MlpPolicy", "n_timesteps": 1e6},
        "atari": {
            "policy": "CnnPolicy",
            "n_timesteps": 1e7,
            "env_wrapper": ["stable_baselines3.common.atari_wrappers.AtariWrapper"],
            "frame_stack": 4,
        },
    }
    out = Path(tempfile.mkdtemp(prefix="sb3_atari_ext_")) / f"{algo}.yml"
    out.write_text(yaml.safe_dump(entries))
    return out, f"the class defaults of {algo}", out
