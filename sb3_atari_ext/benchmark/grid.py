"""What a benchmark trains: variants (an algorithm plus ``-params``) x env ids x seeds.

A grid comes from the command line (``--algos dqn ddqn_prio --envs ... --seeds 3``), from a small
yaml file (``--grid bench/learning/minatar.yml``), or both (the command line wins)::

    budget: 500000             # agent steps per run (RL Zoo's -n)
    seeds: 3                   # seeds 0 .. seeds-1 for every variant unless it says otherwise
    envs: [MinAtar/Breakout-v1, MinAtar/Asterix-v1]
    baseline: dqn              # scores are also normalized by this variant's mean per game
    eval_freq: 50000           # RL Zoo's --eval-freq (agent steps)
    eval_episodes: 10
    variants:
      dqn: {}                  # a variant named like an algorithm trains that algorithm
      rainbow_lite:
        algo: ddqn_prio
        params: {n_steps: 3, policy_kwargs: "dict(dueling=True, noisy=True)"}
      a3c: {seeds: 1}
      pqn: {seeds: 3, budget: 5000000, eval_freq: 250000}   # its own budget and evaluation interval
      rainbow: {revision: 2}   # its yaml defaults changed: earlier finished runs no longer count
    save_freq: 100000          # checkpoints (RL Zoo's --save-freq): a stopped run resumes from its last
    save_replay_buffer: true   # with save_freq: the replay buffer too (RL Zoo's --save-replay-buffer), so
                               # an off-policy run resumes with its replay; removed when the run finishes
    references:                # published figures shown beside ours in report.md
      MinAtar/Breakout-v1: {label: "Young & Tian 2019, DQN, 5M frames", score: 10}
    targets:                   # checked by the report: met, missed or not yet (see benchmark.targets)
      - {variant: rainbow_lite, iqm_at_least: 1.2}
      - {variant: rainbow_lite, mean_at_least: dqn}
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sb3_atari_ext.benchmark.targets import Target, TargetError, parse_targets
from sb3_atari_ext.common.validation import first_line

VARIANT_KEYS = ("algo", "params", "seeds", "budget", "eval_freq", "save_freq", "revision")


class GridError(ValueError):
    """A grid that cannot run: unknown algorithm, env or variant, or a bad value (one line)."""


@dataclass(frozen=True)
class Variant:
    """One row of the grid: a name, the RL Zoo algorithm it trains and its ``-params``."""

    name: str
    algo: str
    params: dict[str, Any] = field(default_factory=dict)
    seeds: int | None = None
    budget: int | None = None
    eval_freq: int | None = None
    save_freq: int | None = None
    # raised when the algorithm's own yaml defaults change: the variant's finished runs no longer
    # count (they stay in runs.json) and are trained again
    revision: int | None = None

    def zoo_params(self) -> list[str]:
        """``-params`` arguments for ``rl_zoo3.train``: RL Zoo ``eval``-s each value, so pass its repr."""
        return [f"{key}:{value!r}" for key, value in self.params.items()]


@dataclass
class Grid:
    """A whole benchmark: variants x envs x seeds at one budget."""

    variants: list[Variant]
    envs: list[str]
    seeds: int = 3
    budget: int = 500_000
    baseline: str | None = None
    eval_freq: int | None = None
    eval_episodes: int = 10
    save_freq: int | None = None
    save_replay_buffer: bool = False
    references: dict[str, dict[str, Any]] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)

    def seeds_of(self, variant: Variant) -> int:
        return variant.seeds if variant.seeds is not None else self.seeds

    def budget_of(self, variant: Variant) -> int:
        """Agent steps per run of ``variant``: its own budget, else the grid's."""
        return variant.budget if variant.budget is not None else self.budget

    def eval_freq_of(self, variant: Variant) -> int:
        """Agent steps between evaluations of ``variant``'s runs."""
        if variant.eval_freq is not None:
            return variant.eval_freq
        return self.eval_freq if self.eval_freq else max(self.budget_of(variant) // 10, 1)

    def save_freq_of(self, variant: Variant) -> int | None:
        """Agent steps between checkpoints of ``variant``'s runs (``None``: none, a stopped run starts
        over); with checkpoints a stopped run resumes from its last one."""
        return variant.save_freq if variant.save_freq is not None else self.save_freq

    def runs(self) -> list[tuple[Variant, str, int]]:
        """Every (variant, env, seed) of the grid, in the order a partial grid is most useful:
        seed by seed; within a seed first the variants with the most seeds (the main comparison)
        on every game, then the rest. Variants keep their grid order."""
        order = []
        most = max((self.seeds_of(v) for v in self.variants), default=0)
        for seed in range(most):
            present = [v for v in self.variants if seed < self.seeds_of(v)]
            present.sort(key=lambda v: -self.seeds_of(v))  # stable: grid order within a seed count
            for variant in present:
                for env in self.envs:
                    order.append((variant, env, seed))
        return order

    @property
    def effective_eval_freq(self) -> int:
        return self.eval_freq if self.eval_freq else max(self.budget // 10, 1)


def parse_variant(text: str) -> Variant:
    """``"rainbow_lite=ddqn_prio n_steps:3 policy_kwargs:'dict(dueling=True)'"`` -> :class:`Variant`.

    Values are Python literals (numbers, strings, lists...) as in RL Zoo's ``-params``; anything
    else is kept as a string (RL Zoo evaluates ``policy_kwargs`` strings itself).
    """
    name, sep, rest = text.partition("=")
    parts = shlex.split(rest)
    if not sep or not name.strip() or not parts:
        raise GridError(f"bad --variant {text!r}: expected NAME=ALGO [KEY:VALUE ...]")
    params = {}
    for item in parts[1:]:
        key, colon, value = item.partition(":")
        if not colon or not key:
            raise GridError(f"bad --variant {text!r}: {item!r} is not KEY:VALUE")
        params[key] = _literal(value)
    return Variant(name.strip(), parts[0], params)


def _literal(value: str) -> Any:
    import ast

    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _positive_int(value: Any, key: str, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < 1:
        raise GridError(f"{source}: {key}={value!r} is not a positive integer")
    return int(value)


def _flag(value: Any, key: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise GridError(f"{source}: {key}={value!r} is not true or false")
    return value


def load_grid_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a grid yaml (a mapping); errors name the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise GridError(f"grid file not found: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise GridError(f"cannot read grid file {path}: {first_line(exc)}") from None
    if not isinstance(data, dict):
        raise GridError(f"grid file {path}: expected a mapping (budget, seeds, envs, variants), got {type(data).__name__}")
    known = {
        "budget", "seeds", "envs", "baseline", "eval_freq", "eval_episodes", "save_freq", "save_replay_buffer",
        "variants", "references", "targets",
    }  # fmt: skip
    unknown = sorted(set(data) - known)
    if unknown:
        raise GridError(f"grid file {path}: unknown key {unknown[0]!r}; keys are {', '.join(sorted(known))}")
    return data


def build_grid(
    file: str | os.PathLike[str] | None = None,
    algos: list[str] | None = None,
    variants: list[str] | None = None,
    envs: list[str] | None = None,
    seeds: int | None = None,
    budget: int | None = None,
    baseline: str | None = None,
    eval_freq: int | None = None,
    eval_episodes: int | None = None,
) -> Grid:
    """A :class:`Grid` from a grid file and command-line values (which override the file's).

    ``algos`` names variants of the file or, if the file has none by that name, algorithms
    (a variant of that name with no ``-params``). ``variants`` are ``NAME=ALGO KEY:VALUE...`` texts.
    """
    data = load_grid_file(file) if file else {}
    source = str(file) if file else "command line"
    defined: dict[str, Variant] = {}
    for name, spec in (data.get("variants") or {}).items():
        spec = spec or {}
        if not isinstance(spec, dict):
            raise GridError(f"{source}: variant {name!r} must be a mapping ({', '.join(VARIANT_KEYS)})")
        unknown = sorted(set(spec) - set(VARIANT_KEYS))
        if unknown:
            keys = ", ".join(VARIANT_KEYS)
            raise GridError(f"{source}: variant {name!r} has an unknown key {unknown[0]!r}; keys are {keys}")
        params = spec.get("params") or {}
        if not isinstance(params, dict):
            raise GridError(f"{source}: params of variant {name!r} must be a mapping")
        own = {k: _positive_int(spec[k], f"variants.{name}.{k}", source) for k in VARIANT_KEYS[2:] if k in spec}
        defined[str(name)] = Variant(str(name), str(spec.get("algo", name)), dict(params), **own)
    for text in variants or []:
        variant = parse_variant(text)
        defined[variant.name] = variant
    chosen = [defined.get(name, Variant(name, name)) for name in algos] if algos else list(defined.values())
    if not chosen:
        raise GridError("nothing to train: give --algos (or variants in a --grid file)")
    names = [v.name for v in chosen]
    if len(set(names)) != len(names):
        raise GridError(f"a variant is listed twice: {names}")
    env_ids = list(envs or data.get("envs") or [])
    if not env_ids:
        raise GridError("no env ids: give --envs (or envs in a --grid file)")
    grid = Grid(
        variants=chosen,
        envs=[str(e) for e in env_ids],
        seeds=_positive_int(seeds if seeds is not None else data.get("seeds", 3), "seeds", source),
        budget=_positive_int(budget if budget is not None else data.get("budget", 500_000), "budget", source),
        baseline=baseline or data.get("baseline"),
        eval_freq=_positive_int(eval_freq, "eval_freq", source) if eval_freq else data.get("eval_freq"),
        eval_episodes=_positive_int(
            eval_episodes if eval_episodes is not None else data.get("eval_episodes", 10), "eval_episodes", source
        ),
        save_freq=_positive_int(data["save_freq"], "save_freq", source) if data.get("save_freq") is not None else None,
        save_replay_buffer=_flag(data.get("save_replay_buffer", False), "save_replay_buffer", source),
        references=dict(data.get("references") or {}),
    )
    if grid.baseline is not None and grid.baseline not in names:
        raise GridError(f"baseline {grid.baseline!r} is not one of the variants {names}")
    known_envs = {*map(str, data.get("envs") or []), *grid.envs}
    try:  # against every variant and game the file defines: a report of some of them checks those it can
        grid.targets = parse_targets(data.get("targets"), {*defined, *names}, known_envs, source)
    except TargetError as exc:
        raise GridError(str(exc)) from None
    return grid


def check_grid(grid: Grid, known_algos: set[str] | list[str], known_envs: set[str]) -> None:
    """Raise :class:`GridError` naming the first unknown algorithm or env id, with what is known."""
    for variant in grid.variants:
        if variant.algo not in known_algos:
            hint = f"known algorithms: {', '.join(sorted(known_algos))}"
            if variant.name == variant.algo:
                hint += " (or define a variant of that name in --grid / --variant)"
            raise GridError(f"unknown algorithm {variant.algo!r} (variant {variant.name!r}); {hint}")
    for env in grid.envs:
        if env not in known_envs:
            close = sorted(e for e in known_envs if env.split("/")[-1].split("-")[0].lower() in e.lower())[:5]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise GridError(f"unknown env id {env!r}{hint}")
