"""Registered short names, and the RL Zoo functions that resolve names, made to know them.

RL Zoo resolves classes named in yaml or on the command line in ``rl_zoo3.utils``
(``get_class_by_name`` for callbacks and policies, ``get_wrapper_class`` for ``env_wrapper``,
``StoreDict`` for ``-params`` values). The functions here are what the installer
(:mod:`sb3_atari_ext.zoo.install`) puts in their place: each calls RL Zoo's own function for
anything that is not a registered short name.
"""

from __future__ import annotations

import functools
from typing import Any

from sb3_atari_ext.common.validation import first_line
from sb3_atari_ext.plugins import get_registry


def short_names() -> dict[str, Any]:
    """Registered short names usable in RL Zoo yaml, plus our algorithm class names."""
    return get_registry().short_names()


def resolve_wrappers(hyperparams: dict[str, Any], key: str = "env_wrapper") -> dict[str, Any]:
    """``hyperparams`` with registered short wrapper names (``ScaleReward`` or
    ``{ScaleReward: {...}}``) under ``key`` replaced by their classes."""
    value = hyperparams.get(key)
    if value is None:
        return hyperparams
    names = short_names()

    def resolve(item: Any) -> Any:
        if isinstance(item, str):
            return names.get(item, item)
        if isinstance(item, dict) and len(item) == 1:
            ((name, kwargs),) = item.items()
            return {names.get(name, name) if isinstance(name, str) else name: kwargs}
        return item

    resolved = [resolve(v) for v in value] if isinstance(value, list) else resolve(value)
    return {**hyperparams, key: resolved}


def class_by_name(original: Any) -> Any:
    """RL Zoo's ``get_class_by_name`` that also knows the registered short names."""

    @functools.wraps(original)
    def get_class_by_name(name: str) -> Any:
        registered = short_names().get(name)
        return registered if registered is not None else original(name)

    return get_class_by_name


def wrapper_class(original: Any) -> Any:
    """RL Zoo's ``get_wrapper_class`` that also knows the registered wrapper names."""

    @functools.wraps(original)
    def get_wrapper_class(hyperparams: dict[str, Any], key: str = "env_wrapper") -> Any:
        return original(resolve_wrappers(hyperparams, key), key)

    return get_wrapper_class


def checked_store_dict(store_dict: type) -> type:
    """RL Zoo's ``StoreDict`` (``-params``, ``--env-kwargs``...) with one error line for a bad item
    (no ``:``, or a value that is not a Python expression) instead of a ``SyntaxError`` traceback."""

    class StoreDict(store_dict):  # type: ignore[misc, valid-type]
        def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
            from sb3_atari_ext.zoo.errors import fail

            for item in values:
                key, colon, value = item.partition(":")
                if not key or not colon or not value:
                    fail(f"{option_string} {item!r}: expected KEY:VALUE, e.g. learning_rate:0.001")
            try:
                super().__call__(parser, namespace, values, option_string)
            except Exception as exc:  # noqa: BLE001 - eval of user text: any error is the user's
                reason = first_line(exc)
                fail(f"{option_string} {' '.join(values)!r}: a value is not a Python expression ({reason}); quote strings")

    return StoreDict


def checked_model_path(original: Any) -> Any:
    """``get_model_path`` of ``enjoy``/``record_video`` that refuses a truncated or corrupt model zip
    with one error line (RL Zoo's own "not found" errors are kept)."""

    @functools.wraps(original)
    def get_model_path(*args: Any, **kwargs: Any) -> Any:
        from sb3_atari_ext.common.run_folder import check_model_file
        from sb3_atari_ext.zoo.errors import fail

        result = original(*args, **kwargs)
        try:
            check_model_file(result[1])
        except ValueError as exc:
            fail(str(exc))
        return result

    return get_model_path
