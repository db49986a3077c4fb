"""What a run folder (``logs/<algo>/<env>_<n>/``) says about how its run ended, beyond RL Zoo's files."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

#: written into a run folder when the run ended with an error after it had started training
FAILED_MARKER = "FAILED.txt"


def mark_failed(folder: Path, message: str) -> None:
    """Leave ``FAILED.txt`` (the error line) in a run folder that trained for a while and then
    failed, so that ``report`` and the dashboard list it as failed, not as stopped."""
    with contextlib.suppress(OSError):
        (folder / FAILED_MARKER).write_text(message + "\n")


def run_number(name: str, env_name: str) -> int | None:
    """``n`` of an RL Zoo run folder named ``<env_name>_<n>`` (``None`` for any other name)."""
    found = re.fullmatch(rf"{re.escape(env_name)}_(\d+)", name)
    return int(found.group(1)) if found else None


def claim_run_folder(save_path: str | os.PathLike[str], env_name: str) -> Path:
    """Create the run folder ``save_path`` (``<log>/<algo>/<env>_<n>``) for this run alone.

    RL Zoo numbers a run ``<env>_<n>`` with ``n`` one above the largest number it finds when its
    manager is built, and creates the folder later with ``exist_ok=True``: two runs started together
    (two seeds in two shells, two search workers) both take ``<env>_<n>`` and write over each
    other's files. Here the folder is made with an exclusive ``mkdir``; when another run made it
    first, the next free number is taken. A name that is not ``<env>_<n>`` (RL Zoo's ``--uuid``)
    is made as it is.

    :return: the folder this run owns (``save_path`` or the same name with a larger number)
    """
    path = Path(save_path)
    number = run_number(path.name, env_name)
    if number is None:
        path.mkdir(parents=True, exist_ok=True)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        candidate = path.parent / f"{env_name}_{number}"
        try:
            candidate.mkdir()
        except FileExistsError:
            number += 1
        else:
            return candidate


def check_model_file(path: str | Path) -> None:
    """Raise ``ValueError`` unless ``path`` is a complete SB3 model zip (not truncated or corrupt)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        reason = f"truncated or corrupt zip: {exc}"
        raise ValueError(f"{path} is not a readable model ({reason}); was its save interrupted?") from None
    if "data" not in names or broken is not None:
        raise ValueError(f"{path} is not a complete SB3 model (missing 'data' or a corrupt member {broken!r})")


#: what a model whose weights torch cannot read means to the user (SB3 loads them weights-only)
DAMAGED_WEIGHTS = (
    "a weights file (.pth) inside the model zip is damaged: torch could not read it; restore the file "
    "or train again (never load it with weights_only=False)"
)


def is_damaged_weights(exc: BaseException) -> bool:
    """Whether ``exc`` is torch failing to read a weights file of a model zip."""
    import pickle

    return isinstance(exc, pickle.UnpicklingError) or str(exc).startswith("Weights only load failed")


def _config_loader() -> type:
    """A YAML loader for RL Zoo's ``config.yml``: safe, plus the ``OrderedDict`` RL Zoo writes;
    any other Python tag (a class passed through ``-params``) is kept as its tag text, never built."""
    import yaml

    class ConfigLoader(yaml.SafeLoader):
        pass

    def ordered_dict(loader: yaml.SafeLoader, node: yaml.Node) -> dict:
        pairs = loader.construct_sequence(node.value[0], deep=True) if node.value else []
        return {key: value for key, value in pairs}

    def python_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> str:
        return f"!!python/{suffix}"

    ConfigLoader.add_constructor("tag:yaml.org,2002:python/object/apply:collections.OrderedDict", ordered_dict)
    ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", python_tag)
    return ConfigLoader


#: keys of RL Zoo's saved hyperparameters that are not a run's settings (the budget is ``-n``'s)
NOT_SETTINGS = ("n_timesteps",)


def _zoo_yaml(folder: str | Path, name: str) -> dict | None:
    """``<run folder>/<env>/<name>`` as RL Zoo wrote it (an ``OrderedDict``), read safely; ``None``
    when missing or unreadable."""
    import yaml

    folder = Path(folder)
    env_name = folder.name.rsplit("_", 1)[0]
    try:
        data = yaml.load((folder / env_name / name).read_text(), Loader=_config_loader())  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError, ValueError):
        return None
    return {str(key): value for key, value in data.items()} if isinstance(data, dict) else None


def run_settings(folder: str | Path) -> dict | None:
    """The hyperparameters a finished RL Zoo run trained with (its ``<env>/config.yml``, the
    algorithm's yaml entry with every ``-params`` applied), without ``n_timesteps``; ``None`` when
    the folder has no readable one. Values are kept as the YAML wrote them (``policy_kwargs`` is
    usually its string)."""
    config = _zoo_yaml(folder, "config.yml")
    return None if config is None else {key: value for key, value in config.items() if key not in NOT_SETTINGS}


def run_args(folder: str | Path) -> dict | None:
    """The command line an RL Zoo run was started with (its ``<env>/args.yml``: ``algo``, ``env``,
    ``seed``, the ``-params`` as ``hyperparams``, ...), read as :func:`run_settings` reads
    ``config.yml``; ``None`` when the folder has no readable one. RL Zoo writes it when the run
    is set up, before the first step."""
    return _zoo_yaml(folder, "args.yml")
