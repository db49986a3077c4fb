"""Early, explicit checks of hyperparameter values.

Every check raises ``ValueError`` naming the key and the value; the RL Zoo bridge adds the file
the value came from. The checks run before any environment or network is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from numbers import Real
from typing import Any

Rule = tuple[Callable[[Any], bool], str]


class HyperparameterError(ValueError):
    """An invalid hyperparameter value: ``key``, ``value`` and what was expected."""

    def __init__(self, key: str, value: Any, expected: str, source: str | None = None) -> None:
        self.key, self.value, self.expected, self.source = key, value, expected, source
        where = f" in {source}" if source else ""
        super().__init__(f"invalid hyperparameter {key}={value!r}{where}: expected {expected}")

    def with_source(self, source: str) -> HyperparameterError:
        """The same error, naming the file (or command-line option) the value came from."""
        return HyperparameterError(self.key, self.value, self.expected, source)


def is_int(value: Any) -> bool:
    """An integer (Python or numpy), not a float with an integral value nor a bool."""
    import numpy as np

    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_params(params: Mapping[str, Any], rules: Mapping[str, Rule]) -> None:
    """Check each present key of ``params`` against its rule (``predicate``, ``expectation``)."""
    for key, (predicate, expected) in rules.items():
        if key not in params:
            continue
        value = params[key]
        ok = isinstance(value, Real) and not isinstance(value, bool)
        try:
            ok = ok and bool(predicate(value))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise HyperparameterError(key, value, f"a number {expected}")


class MissingExtraError(ImportError):
    """An optional dependency is not installed: the message says how to install it (one line)."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package, self.extra = package, extra
        super().__init__(
            f"{feature} needs the {package} package, which is not installed: "
            f'pip install "sb3-atari-ext[{extra}]"'
        )
