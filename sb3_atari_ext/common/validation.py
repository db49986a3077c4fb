"""Early, explicit checks of hyperparameter values.

Every check raises ``ValueError`` naming the key and the value; the RL Zoo bridge adds the file
the value came from. The checks run before any environment or network is built.
"""

from __future__ import annotations

import math
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


def is_count(value: Any) -> bool:
    """A whole number: an integer, or a float with an integral value (yaml's ``!!float 1e4``)."""
    return is_int(value) or (isinstance(value, float) and math.isfinite(value) and value.is_integer())


def check_params(params: Mapping[str, Any], rules: Mapping[str, Rule]) -> None:
    """Check each present key of ``params`` against its rule (``predicate``, ``expectation``); a
    value that is not a number fails every rule."""
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
            raise HyperparameterError(key, value, expected if expected.startswith(("a ", "an ")) else f"a number {expected}")


def _finite_positive(value: Any) -> bool:
    return math.isfinite(value) and value > 0


#: What SB3's ``DQN`` takes and does not check itself, for every algorithm built on it.
Q_LEARNING_RULES: dict[str, Rule] = {
    "gamma": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "batch_size": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "buffer_size": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "learning_starts": (lambda v: is_count(v) and v >= 0, "a whole number >= 0"),
    "tau": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "gradient_steps": (lambda v: is_int(v) and (v >= 1 or v == -1), "an integer >= 1 (or -1: as many as env steps)"),
    "target_update_interval": (lambda v: is_count(v) and v >= 1, "a whole number >= 1"),
    "exploration_fraction": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "exploration_initial_eps": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "exploration_final_eps": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "max_grad_norm": (lambda v: v > 0, "> 0"),
}


#: the largest step size torch's optimizer kernels take: they convert it to a C float (float32), and
#: a larger value ended in torch's "cannot be converted to type float without overflow" traceback
MAX_LEARNING_RATE = 3.4e38


def _step_size(value: Any) -> bool:
    return _finite_positive(value) and value <= MAX_LEARNING_RATE


def check_learning_rate(params: Mapping[str, Any]) -> None:
    """``learning_rate``: a finite number > 0 (and at most ``MAX_LEARNING_RATE``), or a schedule (a
    callable, as RL Zoo makes from ``lin_0.001``) whose value at the start of training (progress 1) is one."""
    if "learning_rate" not in params:
        return
    value = params["learning_rate"]
    if callable(value):
        try:
            start = value(1.0)
        except Exception:  # noqa: BLE001 - a schedule that cannot be called is as wrong as a bad number
            start = None
        if not (isinstance(start, Real) and not isinstance(start, bool) and _step_size(start)):
            raise HyperparameterError(
                "learning_rate", f"a schedule starting at {start!r}", "a schedule starting above 0, such as lin_0.001"
            )
        return
    check_params(params, {"learning_rate": (_step_size, "> 0 and at most 3.4e38 (or a schedule such as lin_0.001)")})


def _layer_sizes(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(is_int(size) and size >= 1 for size in value)


def check_net_arch(policy_kwargs: Any) -> None:
    """``policy_kwargs.net_arch``: layer sizes (a list of integers >= 1, possibly empty), or a dict of
    such lists (``pi`` / ``vf`` / ``qf``, SB3's actor-critic form)."""
    if not isinstance(policy_kwargs, Mapping) or "net_arch" not in policy_kwargs:
        return
    value = policy_kwargs["net_arch"]
    ok = value is None or _layer_sizes(value)
    ok = ok or (isinstance(value, Mapping) and all(isinstance(k, str) and _layer_sizes(v) for k, v in value.items()))
    if not ok:
        expected = "a list of layer sizes (integers >= 1) such as [256, 256], or dict(pi=[64], vf=[64])"
        raise HyperparameterError("policy_kwargs.net_arch", value, expected)


def check_frame_stack(value: Any) -> None:
    """RL Zoo's ``frame_stack``: how many observations are stacked, an integer >= 1 (or unset)."""
    if value is not None and not (is_int(value) and value >= 1):
        raise HyperparameterError("frame_stack", value, "an integer >= 1 (frames stacked per observation)")


def check_train_freq(params: Mapping[str, Any]) -> None:
    """``train_freq``: an integer >= 1 or ``(n, "step" | "episode")``."""
    if "train_freq" not in params:
        return
    value = params["train_freq"]
    count, unit = value if isinstance(value, tuple) and len(value) == 2 else (value, "step")
    if not (is_int(count) and count >= 1 and unit in ("step", "episode")):
        raise HyperparameterError("train_freq", value, 'an integer >= 1 or a tuple (n, "step" | "episode")')


#: What SB3's on-policy algorithms (``A2C``, ``PPO``, sb3-contrib's ``RecurrentPPO``) take and do
#: not check themselves.
ON_POLICY_RULES: dict[str, Rule] = {
    "n_steps": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "gamma": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "gae_lambda": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "ent_coef": (lambda v: 0 <= v < math.inf, ">= 0"),
    "vf_coef": (lambda v: 0 <= v < math.inf, ">= 0"),
    "max_grad_norm": (lambda v: v > 0, "> 0"),
    "n_epochs": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "batch_size": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
}


def check_baseline_params(params: Mapping[str, Any], family: str) -> None:
    """The checks of ``family`` (``"q_learning"``: SB3's ``DQN``, sb3-contrib's ``QRDQN``;
    ``"on_policy"``: ``A2C``, ``PPO``, ``RecurrentPPO``) for an algorithm that brings none of its own."""
    rules = Q_LEARNING_RULES if family == "q_learning" else ON_POLICY_RULES
    given = {k: v for k, v in params.items() if v is not None}  # None: the algorithm's default
    check_params(given, rules)
    check_learning_rate(params)
    if family == "q_learning":
        check_train_freq(params)
    policy_kwargs = params.get("policy_kwargs")
    if isinstance(policy_kwargs, Mapping) and "n_quantiles" in policy_kwargs:
        quantiles = policy_kwargs["n_quantiles"]
        if not (is_int(quantiles) and quantiles >= 1):
            raise HyperparameterError("policy_kwargs.n_quantiles", quantiles, "an integer >= 1")


class MissingExtraError(ImportError):
    """An optional dependency is not installed: the message says how to install it (one line)."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package, self.extra = package, extra
        super().__init__(
            f"{feature} needs the {package} package, which is not installed: "
            f'pip install "sb3-atari-ext[{extra}]"'
        )


def env_flag(name: str) -> bool:
    """Whether the environment variable ``name`` is set to a true value (``1``, ``true``, ``yes``)."""
    import os

    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none (for one-line errors)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
