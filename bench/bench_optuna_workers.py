"""Trials per hour with 1 vs 2 local workers on one PostgreSQL Optuna study, side by side.

Each worker is the same ``rl_zoo3.train --algo ddqn_prio --optimize`` command (CartPole, random
sampler, no pruner, one torch thread) against one study in a real PostgreSQL server (start it
with ``scripts/test-services.sh``). Both runs play the same trials: one fixed list of
hyperparameter sets (drawn once from the ``ddqn_prio`` sampler) is enqueued in each study, so
trial costs do not differ between the runs. Throughput is counted from the trials' own start
and end times in the database (first start to last end), so process start-up is not counted;
the wall time of the whole command is printed too. The 1-worker and 2-worker runs alternate.

    python bench/bench_optuna_workers.py --trials 4 --steps 3000 --repeats 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import optuna

URL = os.environ.get("SB3_ATARI_TEST_POSTGRES", "postgresql+psycopg://sb3atari:pw-only-in-tests-4f9c@127.0.0.1:5432/sb3atari_test")


def trial_params(n: int) -> list[dict]:
    """``n`` raw parameter sets of the ``ddqn_prio`` sampler (seeded)."""
    from sb3_atari_ext.ddqn_prio.search import sample_ddqn_prio_params

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    params = []
    for _ in range(n):
        trial = study.ask()
        sample_ddqn_prio_params(trial, 2, 1, {})
        params.append(dict(trial.params))
    return params


def run_workers(n_workers: int, params: list[dict], steps: int) -> tuple[float, float]:
    """(trials/hour from the database's timestamps, wall seconds of the whole run)."""
    name = f"bench-{n_workers}w-{uuid.uuid4().hex[:8]}"
    trials = len(params)
    study = optuna.create_study(storage=URL, study_name=name, direction="maximize")
    for p in params:
        study.enqueue_trial(p)
    cmd = [
        sys.executable, "-m", "rl_zoo3.train", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-n", str(steps),
        "--optimize", "--n-trials", str(trials // n_workers), "--n-jobs", "1", "--sampler", "random",
        "--pruner", "none", "--n-evaluations", "2", "--eval-episodes", "5", "--storage", URL, "--study-name", name,
        "-params", "learning_starts:500", "buffer_size:10000", "-f", os.path.join(tempfile.gettempdir(), name),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(n_workers)]
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError(f"a worker failed: {' '.join(cmd)}")
    wall = time.perf_counter() - start
    done = [t for t in optuna.load_study(study_name=name, storage=URL).trials if t.state == optuna.trial.TrialState.COMPLETE]
    span = (max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)).total_seconds()
    return len(done) / span * 3600, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=4, help="trials per run (split between the workers)")
    parser.add_argument("--steps", type=int, default=3000, help="training steps per trial")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    one, two = [], []
    params = trial_params(args.trials)
    for repeat in range(args.repeats):
        rate, wall = run_workers(1, params, args.steps)
        one.append(rate)
        print(f"run {repeat}: 1 worker  {rate:7.1f} trials/hour (wall {wall:.1f} s)", flush=True)
        rate, wall = run_workers(2, params, args.steps)
        two.append(rate)
        print(f"run {repeat}: 2 workers {rate:7.1f} trials/hour (wall {wall:.1f} s)", flush=True)
    ratios = [b / a for a, b in zip(one, two, strict=True)]
    print(
        f"trials/hour: 1 worker {statistics.median(one):.1f}, 2 workers {statistics.median(two):.1f}, "
        f"ratio {statistics.median(ratios):.2f}x (runs {', '.join(f'{r:.2f}' for r in ratios)}; {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
