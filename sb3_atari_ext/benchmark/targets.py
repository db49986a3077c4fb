"""Targets a grid file sets for its variants, checked by every report on both scores (the last
evaluation and the mean of the last evaluations), so that a missed target is printed where the
results are, never left to a reader to work out::

    targets:
      - {variant: rainbow, iqm_at_least: 1.5}    # IQM of the baseline-normalized scores >= 1.5
      - {variant: rainbow, iqm_above: qrdqn}     # IQM above another variant's
      - {variant: rainbow, mean_at_least: dqn}   # per game, mean over seeds >= dqn's, on every game
      - {variant: rainbow, mean_at_least: 10, env: MinAtar/Breakout-v1}   # a number, on one game

A target reads ``met`` or ``missed`` on the runs finished so far (the report says how many of the
grid's they are), ``not yet`` while a variant it names has no score for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("iqm_at_least", "iqm_above", "mean_at_least")
SCORES = {"final": "last evaluation", "tail": "mean of the last evaluations"}


class TargetError(ValueError):
    """A target a grid file cannot hold (one line, naming the file and the target)."""


@dataclass(frozen=True)
class Target:
    """``variant``'s ``kind`` (one of :data:`KINDS`) against ``than``: a number or another variant;
    ``env`` limits a ``mean_at_least`` target to one game."""

    variant: str
    kind: str
    than: str | float
    env: str | None = None

    @property
    def others(self) -> list[str]:
        """Every variant the target names."""
        return [self.variant] + ([self.than] if isinstance(self.than, str) else [])

    def text(self, baseline: str | None) -> str:
        """The target in words, e.g. ``rainbow: IQM >= 1.5 x dqn``."""
        if self.kind == "iqm_at_least":
            return f"{self.variant}: IQM >= {self.than:g} x {baseline}"
        if self.kind == "iqm_above":
            return f"{self.variant}: IQM above {self.than}'s"
        than = f"{self.than}'s" if isinstance(self.than, str) else f"{self.than:g}"
        return f"{self.variant}: mean over seeds >= {than} on {self.env or 'every game'}"


def parse_targets(items: Any, variants: set[str], envs: set[str], source: str) -> list[Target]:
    """The ``targets`` list of a grid file, each checked against the grid's variant names and
    env ids; :class:`TargetError` names the first that cannot be checked."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise TargetError(f"{source}: targets must be a list of mappings, e.g. - {{variant: rainbow, iqm_at_least: 1.5}}")
    return [_parse_target(item, i, variants, envs, source) for i, item in enumerate(items)]


def _parse_target(item: Any, index: int, variants: set[str], envs: set[str], source: str) -> Target:
    where = f"{source}: targets[{index}]"
    if not isinstance(item, dict):
        raise TargetError(f"{where} must be a mapping with variant and one of {', '.join(KINDS)}")
    unknown = sorted(set(item) - {"variant", "env", *KINDS})
    kinds = [kind for kind in KINDS if kind in item]
    if unknown or len(kinds) != 1:
        found = f"an unknown key {unknown[0]!r}" if unknown else f"{len(kinds)} of {', '.join(KINDS)}"
        raise TargetError(f"{where} has {found}; it takes variant, one of {', '.join(KINDS)} and (with mean_at_least) env")
    kind, than = kinds[0], item[kinds[0]]
    numeric = isinstance(than, (int, float)) and not isinstance(than, bool)
    if kind == "iqm_at_least" and not numeric:
        raise TargetError(f"{where}: iqm_at_least={than!r} is not a number (a multiple of the baseline's score)")
    if kind == "iqm_above" and not isinstance(than, str):
        raise TargetError(f"{where}: iqm_above={than!r} is not a variant name")
    if kind == "mean_at_least" and not (numeric or isinstance(than, str)):
        raise TargetError(f"{where}: mean_at_least={than!r} is neither a number nor a variant name")
    if "env" in item and (kind != "mean_at_least" or item["env"] not in envs):
        reason = "applies to mean_at_least only" if kind != "mean_at_least" else f"is not one of the grid's {sorted(envs)}"
        raise TargetError(f"{where}: env={item['env']!r} {reason}")
    target = Target(str(item.get("variant")), kind, float(than) if numeric else than, item.get("env"))
    for name in target.others:
        if name not in variants:
            raise TargetError(f"{where}: {name!r} is not a variant of the grid ({', '.join(sorted(variants))})")
    return target


def check(target: Target, summary: dict[str, Any], score: str) -> dict[str, str]:
    """``{"status": "met" | "missed" | "not yet", "detail": ...}`` of ``target`` in a report's
    ``summary`` on ``score`` (``"final"`` or ``"tail"``, see :data:`SCORES`)."""
    algorithms = summary["algorithms"]

    def of(name: str) -> dict[str, Any]:
        entry = algorithms.get(name, {})
        return entry.get("tail", {}) if score == "tail" else entry

    if target.kind in ("iqm_at_least", "iqm_above"):
        normalized = summary["baseline"] if score == "final" else summary.get("tail_baseline")
        if normalized is None:
            return {"status": "not yet", "detail": "scores are not normalized by a baseline"}
        missing = [name for name in target.others if "iqm" not in of(name)]
        if missing:
            return {"status": "not yet", "detail": f"no aggregate for {', '.join(missing)} (a run on every game)"}
        value = of(target.variant)["iqm"]
        if target.kind == "iqm_at_least":
            return _verdict(value >= target.than, f"{value:.3f} vs {target.than:g}")
        other = of(str(target.than))["iqm"]
        return _verdict(value > other, f"{value:.3f} vs {other:.3f}")
    envs = [target.env] if target.env else summary["envs"]
    rows, missing = [], []
    for env in envs:
        mine = of(target.variant).get("per_env", {}).get(env)
        floor = of(target.than).get("per_env", {}).get(env) if isinstance(target.than, str) else target.than
        if mine is None or floor is None:
            missing.append(env)
        else:
            rows.append((env, mine, floor))
    so_far = [f"{_game(env)} {mine:.2f} vs {floor:.2f}" for env, mine, floor in rows]
    if missing:  # what the games with runs give so far, beside the ones without
        return {"status": "not yet", "detail": "; ".join([f"no runs on {', '.join(missing)}", *so_far])}
    below = [f"{_game(env)} {mine:.2f} vs {floor:.2f}" for env, mine, floor in rows if mine < floor]
    return _verdict(False, "; ".join(below)) if below else _verdict(True, "; ".join(so_far))


def _verdict(met: bool, detail: str) -> dict[str, str]:
    return {"status": "met" if met else "missed", "detail": detail}


def _game(env: str) -> str:
    """``MinAtar/Breakout-v1`` -> ``Breakout``: a short name for one line of a table."""
    return env.split("/")[-1].split("-")[0].replace("NoFrameskip", "")


def check_all(targets: list[Target], variants: list[str], summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target whose variants are in this report (a report of some of a grid's variants
    checks the targets among them), on both scores."""
    checked = []
    for target in targets:
        if all(name in variants for name in target.others):
            checked.append({"target": target.text(summary["baseline"] or summary.get("tail_baseline")),
                            **{score: check(target, summary, score) for score in SCORES}})  # fmt: skip
    return checked


def targets_markdown(checked: list[dict[str, Any]], tail_evaluations: int) -> list[str]:
    """The report's "Targets" section (nothing without targets)."""
    if not checked:
        return []
    lines = ["", "## Targets of the grid file", ""]
    lines += [f"| target | last evaluation | mean of the last {tail_evaluations} evaluations |", "|---|---|---|"]
    for entry in checked:
        cells = [f"**{entry[s]['status']}** ({entry[s]['detail']})" for s in SCORES]
        lines.append(f"| {entry['target']} | " + " | ".join(cells) + " |")
    lines += ["", "Checked on the runs finished so far (their count is at the top of this report), IQMs as in the "
              "tables above; a per-game target that is missed lists the games where it is."]  # fmt: skip
    return lines
