"""Write the "Results" section of ``docs/benchmark.md`` from the committed benchmark reports, so
the docs give the tables the reports give, never older ones.

    python scripts/docs_benchmark_results.py           # rewrite the section
    python scripts/docs_benchmark_results.py --check   # exit 1 if the section differs from the reports
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmark.md"
REPORTS = {  # title in the docs: (report, baseline, what it holds)
    "Value-based": ("bench/learning/report.md", "dqn", "500k agent steps"),
    "On-policy": ("bench/learning/onpolicy/report.md", "a2c", "2M agent steps"),
    "Outside the grid's games": ("bench/learning/outside/report.md", "dqn", "500k agent steps, Seaquest and Freeway"),
}
SECTIONS = {  # report section -> the sentence before it in the docs
    "Per game: mean final return +- 95% CI": "Mean final return per game (+- 95% CI over seeds; seeds in brackets):",
    "Aggregate over games": "Aggregate over games, (score - random) / ({baseline} - random):",
    "A steadier score": "The steadier score (mean of each run's last 3 evaluations):",
    "Targets of the grid file": "Targets of the grid file:",
}


def table(report: str, title: str) -> str | None:
    """The first table after the report's ``## title`` heading (``None`` if it has none)."""
    found = re.search(rf"^## {re.escape(title)}.*?\n\n(\|.*?)\n(?:\n|$)", report, re.S | re.M)
    return found.group(1) if found else None


def results_section() -> str:
    parts = [
        "## Results",
        "",
        "`bench/learning/report.md`, `bench/learning/onpolicy/report.md` and `bench/learning/outside/report.md`",
        "always hold what has finished, with honest counts; `bench/RESULTS.md` says how each figure was",
        "measured. As committed now (this section is written from those reports by",
        "`scripts/docs_benchmark_results.py`):",
    ]
    for name, (path, baseline, budget) in REPORTS.items():
        if not (ROOT / path).is_file():
            continue
        report = (ROOT / path).read_text()
        count = re.search(r"Runs finished: (\d+ of \d+)", report)
        parts += ["", f"**{name}** ({budget}, baseline `{baseline}`; runs finished: {count.group(1) if count else '-'})."]
        for title, sentence in SECTIONS.items():
            found = table(report, title)
            if found:
                parts += ["", sentence.format(baseline=baseline), "", found]
    return "\n".join(parts) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/benchmark.md's section differs")
    args = parser.parse_args()
    doc = DOC.read_text()
    start = doc.index("## Results")
    updated = doc[:start] + results_section()
    if args.check:
        if updated != doc:
            print("docs/benchmark.md: its Results section differs from the committed reports; "
                  "run python scripts/docs_benchmark_results.py", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    DOC.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
