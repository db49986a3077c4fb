"""Interpreter start-up cost of the ``.pth`` autoload hook: ``python -c pass`` with and without it.

Runs are interleaved (hook on, hook off, ...). With ``SB3_ATARI_EXT_AUTOLOAD=0`` the .pth line
only reads that variable and imports nothing, so the difference is the hook's whole cost. The
hook's own imports are also reported from ``python -X importtime``.

    python bench/bench_startup.py --runs 40
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def once(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    on = {**os.environ, "SB3_ATARI_EXT_AUTOLOAD": "1"}
    off = {**os.environ, "SB3_ATARI_EXT_AUTOLOAD": "0"}
    times: dict[str, list[float]] = {"hook on": [], "hook off": []}
    for _ in range(3):  # warm the file cache
        once(["-c", "pass"], on)
    for _ in range(args.runs):
        times["hook on"].append(once(["-c", "pass"], on))
        times["hook off"].append(once(["-c", "pass"], off))
    cost = []
    for _ in range(10):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "pass"], env=on, check=True, capture_output=True, text=True
        ).stderr
        # "import time: self [us] | cumulative | name": the top-level entry of our package
        lines = [line.split("|") for line in err.splitlines() if line.rstrip().endswith(" sb3_atari_ext.zoo.autoload")]
        cost.append(sum(int(parts[1]) for parts in lines) / 1e3)
    on_ms = statistics.median(times["hook on"]) * 1e3
    off_ms = statistics.median(times["hook off"]) * 1e3
    print("| python -c pass | median ms |")
    print("|---|---|")
    print(f"| hook on | {on_ms:.1f} |")
    print(f"| hook off (SB3_ATARI_EXT_AUTOLOAD=0) | {off_ms:.1f} |")
    print(f"| **difference** | **{on_ms - off_ms:+.2f}** |")
    print(f"| imports of the hook (`-X importtime`, cumulative, median of 10) | {statistics.median(cost):.2f} |")


if __name__ == "__main__":
    main()
