"""``sb3-atari study``: what an Optuna study found, as a ready-to-use RL Zoo yaml and a plot.

Reads a study written by ``rl_zoo3.train --optimize`` (any storage: the embedded journal file,
SQLite, PostgreSQL), prints its best trial, turns the best parameters into hyperparameters with
the algorithm's registered converter, merges them into the base hyperparameters the study
recorded (``sb3_atari_ext.*`` user attributes), and writes ``{env_id: hyperparameters}`` for
``rl_zoo3.train --conf-file``; prints parameter importances and saves the optimization history
as a PNG.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import optuna
import torch as th
import yaml
from rl_zoo3.hyperparams_opt import HYPERPARAMS_CONVERTER
from torch import nn

from sb3_atari_ext.common.storage import ATTR_PREFIX, StorageError, load_study
from sb3_atari_ext.plugins import get_registry

MIN_TRIALS_FOR_IMPORTANCES = 10


def _class_name(value: Any) -> Any:
    """Registered short name (or dotted path) for classes inside policy kwargs."""

    if isinstance(value, type):
        for kind in ("feature_extractors", "replay_buffers", "wrappers"):
            for name, cls in get_registry().names(kind).items():
                if cls is value:
                    return _Expr(name)
        if value.__module__.startswith("torch.nn"):  # RL Zoo evaluates policy_kwargs with ``nn`` imported
            return _Expr(f"nn.{value.__qualname__}")
        return _Expr(f"{value.__module__}.{value.__qualname__}")
    if isinstance(value, dict):
        return {k: _class_name(v) for k, v in value.items()}
    return value


class _Expr(str):
    """A name written without quotes in a Python expression."""

    def __repr__(self) -> str:
        return str(self)


def _policy_kwargs_expr(base: Any, sampled: dict[str, Any] | None) -> Any:
    """Merge the yaml's ``policy_kwargs`` (a string RL Zoo evaluates, or a dict) with sampled ones,
    written as a person would: ``dict(net_arch=[512], dueling=False)``. A base expression that
    cannot be evaluated here is kept as it is, with the sampled values applied over it."""
    if not sampled:
        return base
    base_value = _evaluate(base) if isinstance(base, str) else base
    if base is not None and base_value is None:
        return f"{{**{base}, **{_render(sampled)}}}"
    return _render({**(base_value or {}), **sampled})


def _evaluate(expr: str) -> dict[str, Any] | None:
    """``expr`` evaluated as RL Zoo would (registered short names, ``nn``, ``th``), or ``None``."""

    try:
        value = eval(expr, {"dict": dict, "nn": nn, "th": th, **get_registry().short_names()})  # noqa: S307 - the user's own yaml
    except Exception:  # noqa: BLE001 - an expression we cannot evaluate is kept verbatim
        return None
    return value if isinstance(value, dict) else None


def _render(kwargs: dict[str, Any]) -> str:
    return "dict(" + ", ".join(f"{key}={_class_name(value)!r}" for key, value in kwargs.items()) + ")"


def best_hyperparams(study: Any) -> tuple[str, str, dict[str, Any]]:
    """``(algo, env_id, hyperparameters)`` of the best trial, ready for an RL Zoo yaml."""

    attrs = study.user_attrs
    algo, env_id = attrs.get(ATTR_PREFIX + "algo"), attrs.get(ATTR_PREFIX + "env")
    if algo is None or env_id is None:
        raise ValueError(f"study {study.study_name!r} was not written by rl_zoo3.train --optimize with sb3-atari-ext")
    base = dict(attrs.get(ATTR_PREFIX + "hyperparams") or {})
    entries = get_registry().entries("samplers")
    # a registered sampler's converter, or RL Zoo's for an algorithm built into RL Zoo
    converter = (entries[(algo,)].extra.get("converter") or dict) if (algo,) in entries else HYPERPARAMS_CONVERTER[algo]
    sampled = dict(converter(dict(study.best_trial.params)))
    policy_kwargs = _policy_kwargs_expr(base.pop("policy_kwargs", None), sampled.pop("policy_kwargs", None))
    hyperparams = {**base, **{k: _class_name(v) for k, v in sampled.items()}}
    if policy_kwargs is not None:
        hyperparams["policy_kwargs"] = policy_kwargs
    return algo, env_id, hyperparams


def report(storage: str, study_name: str, out: str | None = None, plot: str | None = None) -> dict[str, Any]:
    """Print the best trial, write the yaml and the plot; return what was written."""

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = load_study(storage, study_name)
    except StorageError as exc:
        raise ValueError(str(exc)) from None
    complete = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.COMPLETE])
    if not complete:
        raise ValueError(f"study {study_name!r} has no complete trial yet ({len(study.trials)} trials)")
    best = study.best_trial
    print(f"study {study_name}: {len(study.trials)} trials, {len(complete)} complete")
    print(f"best trial {best.number}: value {best.value:.4g}")
    for key, value in best.params.items():
        print(f"  {key}: {value}")
    if "metrics" in best.user_attrs:
        print(f"  metrics: {best.user_attrs['metrics']}")

    algo, env_id, hyperparams = best_hyperparams(study)
    out_path = Path(out or f"{study_name}.yml")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    header = f"# best trial {best.number} (value {best.value:.4g}) of study {study_name}\n"
    header += f"# python -m rl_zoo3.train --algo {algo} --env {env_id} --conf-file {out_path}\n"
    out_path.write_text(header + yaml.safe_dump({env_id: {k: _plain(v) for k, v in hyperparams.items()}}, sort_keys=True))
    print(f"wrote {out_path}")

    importances: dict[str, float] = {}
    if len(complete) < MIN_TRIALS_FOR_IMPORTANCES:
        print(f"parameter importances: not computed ({len(complete)} complete trials; "
              f"at least {MIN_TRIALS_FOR_IMPORTANCES} are needed for them to mean anything)")  # fmt: skip
    elif len(best.params) > 0:
        try:
            with warnings.catch_warnings():  # Optuna's sampler warnings are about the search, not this report
                warnings.simplefilter("ignore")
                importances = dict(optuna.importance.get_param_importances(study))
        except (RuntimeError, ValueError) as exc:
            print(f"parameter importances: not available ({exc})")
    if importances:
        print("parameter importances:")
        for key, value in importances.items():
            print(f"  {key}: {value:.3f}")

    plot_path = Path(plot or out_path.with_suffix(".png"))
    _plot_history(study, plot_path)
    print(f"wrote {plot_path}")
    return {"algo": algo, "env": env_id, "yaml": out_path, "plot": plot_path, "importances": importances, "best": best.number}


def _plain(value: Any) -> Any:
    """yaml-safe values (tuples -> lists, expressions -> plain strings)."""
    if isinstance(value, _Expr):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _plot_history(study: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trials = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    numbers = [t.number for t in trials]
    values = [t.value for t in trials]
    best_so_far = [max(values[: i + 1]) for i in range(len(values))]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.scatter(numbers, values, label="trial value", color="tab:blue")
    ax.step(numbers, best_so_far, where="post", label="best so far", color="tab:red")
    ax.set_xlabel("trial")
    ax.set_ylabel("objective (mean evaluation reward)")
    ax.set_title(f"Optimization history: {study.study_name}")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
