"""Vectorized-env backends (``register_vec_envs``, e.g. ``envpool``) for RL Zoo runs.

RL Zoo's ``--vec-env`` accepts only ``dummy`` and ``subproc`` (its parser hard-codes them). A
registered backend is chosen with the ``vec_env`` key, in the yaml (``vec_env: envpool``) or on
the command line (``-params vec_env:"'envpool'"``); ``sb3-atari train --vec-env envpool`` writes
that ``-params`` item for you. ``--vec-env subproc`` given explicitly wins over the yaml.
"""

from __future__ import annotations

from typing import Any

from sb3_atari_ext.plugins import get_registry

BUILTIN_VEC_ENVS = ("dummy", "subproc")


def vec_env_backends() -> list[str]:
    """Every value ``vec_env`` accepts: RL Zoo's two and the registered backends."""
    return [*BUILTIN_VEC_ENVS, *sorted(get_registry().names("vec_envs"))]


def check_backend(name: str, source: str) -> str:
    """``name`` if it is a known backend, else ``ValueError`` naming ``source`` and the choices."""
    if name not in vec_env_backends():
        raise ValueError(f"unknown vec_env {name!r} in {source}; known: {', '.join(vec_env_backends())}")
    return name


def wrapper_spec(value: Any) -> list[tuple[str, dict[str, Any]]]:
    """RL Zoo's ``env_wrapper`` yaml value as ``[(name, kwargs), ...]`` (what a backend rebuilds)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    spec = []
    for item in items:
        if isinstance(item, dict):
            ((name, kwargs),) = item.items()
        else:
            name, kwargs = item, {}
        spec.append((name if isinstance(name, str) else f"{name.__module__}.{name.__qualname__}", dict(kwargs or {})))
    return spec


def cli_to_params(argv: list[str]) -> list[str]:
    """``rl_zoo3.train`` arguments with ``--vec-env <registered backend>`` turned into the
    ``vec_env`` item of ``-params`` (``dummy``/``subproc`` and unknown names are left to RL Zoo's
    parser, which lists its choices)."""
    args = list(argv)
    for i, arg in enumerate(args):
        if arg.startswith("--vec-env="):
            name = arg.split("=", 1)[1]
        else:
            name = args[i + 1] if arg == "--vec-env" and i + 1 < len(args) else None
        if name is None or name in BUILTIN_VEC_ENVS:
            continue
        if name not in vec_env_backends():
            from sb3_atari_ext.zoo.errors import fail

            fail(f"argument --vec-env: invalid choice: {name!r} (choose from {', '.join(vec_env_backends())})")
        del args[i : i + (1 if arg.startswith("--vec-env=") else 2)]
        item = f"vec_env:{name!r}"
        flag = next((f for f in ("-params", "--hyperparams") if f in args), None)
        if flag is not None:
            args.insert(args.index(flag) + 1, item)
        else:
            args += ["-params", item]
        return args
    return args
