"""Run a :class:`~sb3_atari_ext.benchmark.grid.Grid` as ordinary RL Zoo trainings, resumably.

Each run is one ``rl_zoo3.train`` process (``sb3-atari train``: RL Zoo with every plugin) with its
own seed, one torch thread and the variant's ``-params``, writing the usual
``<log folder>/<algo>/<env>_<n>/``. ``<out>/runs.json`` records which folder belongs to which
(variant, env, seed) and whether it finished; it is rewritten atomically after every change.
Calling the runner again trains only what is not finished: a finished run is never trained
again, a failed one starts over (its partial folder is removed first). An interrupted run starts
over too, unless its variant writes checkpoints (``save_freq``): then it resumes from its last one
(``sb3-atari train --resume``: the step count and every schedule continue) in a new folder, and
the manifest lists the folders it ran in (``segments``); its curve joins them. With
``save_replay_buffer`` the replay buffer is saved beside the checkpoints and an off-policy run
resumes with it (the file is removed once the run finishes).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from sb3_atari_ext.benchmark.grid import Grid, Variant
from sb3_atari_ext.common.atomic import write_text_atomic
from sb3_atari_ext.common.run_folder import run_args, run_number, run_settings
from sb3_atari_ext.common.signals import signal_handlers

MANIFEST = "runs.json"
#: the replay buffer RL Zoo writes beside a run's checkpoints with --save-replay-buffer
REPLAY_FILE = "replay_buffer.pkl"
_TIMESTEPS = re.compile(rb"total_timesteps\s*\|\s*(\d+)")
_CHECKPOINT = re.compile(r"^rl_model_(\d+)_steps\.zip$")
#: exit codes of a training that a signal stopped early (it saves, then exits 128 + the signal)
STOPPED_BY_SIGNAL = (128 + signal.SIGINT, 128 + signal.SIGTERM)


def env_folder_name(env_id: str) -> str:
    """RL Zoo's folder name of an env id (``MinAtar/Breakout-v1`` -> ``MinAtar-Breakout-v1``)."""
    return env_id.replace(":", "-").replace("/", "-")


def run_key(grid: Grid, variant: Variant, env: str, seed: int) -> str:
    """Identity of a run: changing the algorithm, ``-params``, budget, evaluation or the variant's
    ``revision`` makes a new run (a variant without a revision keeps the identity it always had)."""
    fields = [variant.algo, variant.params, grid.budget_of(variant), grid.eval_freq_of(variant), grid.eval_episodes]
    if variant.revision is not None:
        fields.append({"revision": variant.revision})
    spec = json.dumps(fields, sort_keys=True, default=str)
    digest = hashlib.sha1(spec.encode()).hexdigest()[:8]
    return f"{variant.name}|{env}|{seed}|{digest}"


def load_manifest(out: Path) -> dict[str, dict[str, Any]]:
    path = out / MANIFEST
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())["runs"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(f"{path} is not a benchmark manifest (delete it to start the grid afresh)") from None


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON, atomically (:func:`~sb3_atari_ext.common.atomic.write_text_atomic`)."""

    write_text_atomic(path, json.dumps(data, indent=1, default=str))


def _run_ids(folder: Path, env_name: str) -> set[int]:
    if not folder.is_dir():
        return set()
    return {n for p in folder.iterdir() if (n := run_number(p.name, env_name)) is not None and p.is_dir()}


_LOG_PATH = re.compile(r"^Log path: (.+)$", re.MULTILINE)


def logged_folder(log: Path, offset: int = 0) -> Path | None:
    """The run folder RL Zoo printed (``Log path: <folder>``) in ``log`` after byte ``offset``
    (a resumed run's log holds every segment's line; the last one is this segment's)."""
    try:
        with open(log, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode(errors="replace")
    except OSError:
        return None
    found = _LOG_PATH.findall(text)
    return Path(found[-1].strip()) if found else None


def latest_timesteps(log: Path) -> int:
    """Last ``total_timesteps`` SB3 printed in a run's log (0 before the first table)."""
    try:
        with open(log, "rb") as handle:
            handle.seek(max(handle.seek(0, os.SEEK_END) - 8192, 0))
            found = _TIMESTEPS.findall(handle.read())
    except OSError:
        return 0
    return int(found[-1]) if found else 0


def holds_run(folder: str | Path, variant: Variant, env: str, seed: int) -> bool:
    """Whether ``folder`` holds this run: RL Zoo's ``args.yml`` there names the same algorithm,
    env, seed and ``-params``. The folder recorded for an unfinished run can hold another run
    later: RL Zoo gives a number again once its folder is gone (removed between sessions), and a
    resume from that run's checkpoint would continue the wrong agent."""
    args = run_args(folder)
    return (
        args is not None
        and args.get("algo") == variant.algo
        and args.get("env") == env
        and args.get("seed") == seed
        and dict(args.get("hyperparams") or {}) == dict(variant.params)
    )


def last_checkpoint(folder: Path) -> tuple[Path, int] | None:
    """The newest ``rl_model_<steps>_steps.zip`` RL Zoo's ``--save-freq`` wrote in ``folder``."""
    found = [(int(m.group(1)), p) for p in folder.glob("rl_model_*_steps.zip") if (m := _CHECKPOINT.match(p.name))]
    if not found:
        return None
    steps, path = max(found)
    return path, steps


def _evaluations(folder: Path) -> tuple[list[int], list[float]]:
    try:
        with np.load(folder / "evaluations.npz") as data:
            returns = np.asarray(data["results"], dtype=float).mean(axis=1)
            return [int(t) for t in data["timesteps"]], [round(float(r), 4) for r in returns]
    except (OSError, KeyError, ValueError):
        return [], []


def record_evaluations(entry: dict[str, Any], folder: Path) -> None:
    """Keep a finished run's evaluation curve in its manifest entry, so the report can be rebuilt
    from ``runs.json`` alone (the run folders are not committed with the results). A resumed run's
    curve is its segments' evaluations up to each resume point, then the last folder's."""
    timesteps: list[int] = []
    returns: list[float] = []
    for segment in entry.get("segments", []):
        seg_steps, seg_returns = _evaluations(Path(segment["folder"]))
        after = timesteps[-1] if timesteps else -1
        kept = [(t, r) for t, r in zip(seg_steps, seg_returns, strict=True) if after < t <= segment["until"]]
        timesteps += [t for t, _ in kept]
        returns += [r for _, r in kept]
    last_steps, last_returns = _evaluations(folder)
    after = timesteps[-1] if timesteps else -1
    kept = [(t, r) for t, r in zip(last_steps, last_returns, strict=True) if t > after]
    if timesteps or kept:
        entry["eval_timesteps"] = timesteps + [t for t, _ in kept]
        entry["eval_returns"] = returns + [r for _, r in kept]


def _is_folder_of(entry: dict[str, Any], folder: Path) -> bool:
    """Whether ``folder`` still holds the run of a finished manifest ``entry``: its evaluations after
    the last resume point are the ones the manifest kept (RL Zoo numbers folders per machine, so on
    another checkout the same folder name can belong to another run)."""
    steps, returns = _evaluations(folder)
    after = entry["segments"][-1]["until"] if entry.get("segments") else -1
    kept = dict(zip(entry.get("eval_timesteps", []), entry.get("eval_returns", []), strict=False))
    mine = [(t, r) for t, r in zip(steps, returns, strict=True) if t > after]
    return bool(mine) and all(kept.get(t) == r for t, r in mine)


def record_missing_settings(manifest: dict[str, dict[str, Any]]) -> int:
    """Add ``settings`` (:func:`~sb3_atari_ext.common.run_folder.run_settings`) to finished entries
    recorded before the runner kept them, where the run's folder is still there and still its own;
    returns how many were added."""
    added = 0
    for entry in manifest.values():
        if entry.get("status") != "finished" or "settings" in entry or not entry.get("folder"):
            continue
        folder = Path(entry["folder"])
        if folder.is_dir() and _is_folder_of(entry, folder) and (settings := run_settings(folder)) is not None:
            entry["settings"] = settings
            added += 1
    return added


def keep_niceness(pid: int) -> None:
    """Give a worker's new session the runner's niceness as a scheduling group too.

    With Linux's autogroup scheduling (on by default on desktops and many servers) every session
    is a group that gets an equal share of the CPU whatever its processes' nice values: a worker
    in its own session (``start_new_session``) of a ``nice -n 19`` runner would take as much CPU
    as an interactive shell. Its group's nice value (``/proc/<pid>/autogroup``) is set to the
    runner's; nothing to do where the file does not exist."""
    niceness = os.nice(0)
    if niceness <= 0:
        return
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/autogroup").write_text(str(niceness))


@dataclass
class _Active:
    key: str
    variant: Variant
    env: str
    seed: int
    process: subprocess.Popen
    log: Path
    started: float
    before: set[int]
    folder: Path | None = None
    log_offset: int = 0  # where this segment's output starts in ``log`` (a resumed run appends)


class BenchmarkRunner:
    """Train every run of ``grid`` that ``<out>/runs.json`` does not list as finished.

    :param grid: what to train
    :param log_folder: RL Zoo's ``-f`` (runs go to ``<log_folder>/<algo>/<env>_<n>/``)
    :param out: folder of the manifest, the worker logs and the report
    :param workers: processes at a time
    :param progress: show one progress bar (agent steps over the whole grid)
    """

    def __init__(
        self,
        grid: Grid,
        log_folder: str | os.PathLike[str],
        out: str | os.PathLike[str],
        workers: int = 1,
        progress: bool = True,
    ) -> None:
        self.grid, self.log_folder, self.out = grid, Path(log_folder), Path(out)
        self.workers, self.progress = max(1, int(workers)), progress
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "worker_logs").mkdir(exist_ok=True)
        self.manifest = load_manifest(self.out)
        self._stop = False

    # -- bookkeeping ---------------------------------------------------------------------------
    def _save(self) -> None:
        write_json_atomic(self.out / MANIFEST, {"runs": self.manifest})

    def todo(self) -> list[tuple[str, Variant, str, int]]:
        """Runs of the grid not finished yet, in grid order."""
        result = []
        for variant, env, seed in self.grid.runs():
            key = run_key(self.grid, variant, env, seed)
            if self.manifest.get(key, {}).get("status") != "finished":
                result.append((key, variant, env, seed))
        return result

    def _discard(self, folder: str | None, owner: tuple[Variant, str, int]) -> None:
        # only run folders of this log folder that still hold this run (``owner``: variant, env,
        # seed), never a finished run's (its final model is there)
        if not folder:
            return
        path = Path(folder)
        final_model = path / f"{path.name.rsplit('_', 1)[0]}.zip"
        inside = self.log_folder.resolve() in path.resolve().parents
        if path.is_dir() and inside and not final_model.is_file() and holds_run(path, *owner):
            shutil.rmtree(path, ignore_errors=True)

    def _resume_point(self, key: str, variant: Variant, env: str, seed: int) -> tuple[list[dict[str, Any]], Path | None]:
        """What a (re)started run continues: its earlier segments and the checkpoint to resume
        from, or ``([], None)`` to start over (after removing what the last attempt left). Only a
        folder that still holds this run (:func:`holds_run`) is resumed from or removed."""
        entry = self.manifest.get(key) or {}
        segments = list(entry.get("segments", []))
        resumable = self.grid.save_freq_of(variant) is not None and entry.get("status") in ("interrupted", "running")
        owner = (variant, env, seed)

        def checkpoint_in(folder: Path) -> tuple[Path, int] | None:
            return last_checkpoint(folder) if holds_run(folder, *owner) else None

        folder = Path(entry["folder"]) if entry.get("folder") else None
        if resumable and folder is not None and (found := checkpoint_in(folder)) is not None:
            spent = max((entry.get("wall_time_s") or 0.0) - sum(s["wall_time_s"] for s in segments), 0.0)
            segments.append({"folder": str(folder), "until": found[1], "wall_time_s": round(spent, 1)})
            return segments, found[0]
        self._discard(entry.get("folder"), owner)  # nothing to resume from in the last attempt's folder
        if resumable and segments and (found := checkpoint_in(Path(segments[-1]["folder"]))) is not None:
            return segments, found[0]
        for segment in segments:
            self._discard(segment["folder"], owner)
        return [], None

    def log_path(self, variant: Variant, env: str, seed: int) -> Path:
        """The worker log of a run; a variant's revision is in its name, so a new revision's run
        leaves the earlier one's log alone."""
        revision = f"__r{variant.revision}" if variant.revision is not None else ""
        return self.out / "worker_logs" / f"{variant.name}__{env_folder_name(env)}__seed{seed}{revision}.log"

    def command(self, variant: Variant, env: str, seed: int, resume: Path | None = None) -> list[str]:
        """The ``rl_zoo3.train`` command line of one run (through ``sb3-atari train``), resuming
        from the checkpoint ``resume`` if given."""
        cmd = [
            sys.executable, "-m", "sb3_atari_ext.cli", "train",
            "--algo", variant.algo, "--env", env, "--seed", str(seed),
            "-n", str(self.grid.budget_of(variant)), "-f", str(self.log_folder), "--num-threads", "1",
            "--eval-freq", str(self.grid.eval_freq_of(variant)), "--eval-episodes", str(self.grid.eval_episodes),
        ]  # fmt: skip
        if (save_freq := self.grid.save_freq_of(variant)) is not None:
            cmd += ["--save-freq", str(save_freq)]
            if self.grid.save_replay_buffer:
                cmd.append("--save-replay-buffer")
        if resume is not None:
            cmd += ["--resume", str(resume)]
        params = variant.zoo_params()
        return cmd + (["-params", *params] if params else [])

    # -- running -------------------------------------------------------------------------------
    def _launch(self, key: str, variant: Variant, env: str, seed: int) -> _Active:
        segments, checkpoint = self._resume_point(key, variant, env, seed)
        algo_folder = self.log_folder / variant.algo
        log = self.log_path(variant, env, seed)
        environ = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        offset = log.stat().st_size if checkpoint and log.is_file() else 0
        with open(log, "ab" if checkpoint else "wb") as handle:
            process = subprocess.Popen(
                self.command(variant, env, seed, checkpoint),
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=environ,
                start_new_session=True,  # Ctrl-C reaches the runner, which stops its workers itself
            )
        keep_niceness(process.pid)
        self.manifest[key] = {
            "variant": variant.name, "algo": variant.algo, "params": variant.params, "env": env, "seed": seed,
            "budget": self.grid.budget_of(variant), "status": "running", "folder": None, "log": str(log), "wall_time_s": None,
            **({"segments": segments} if segments else {}),
        }  # fmt: skip
        self._save()
        started = time.time() - sum(s["wall_time_s"] for s in segments)  # wall time counts every segment
        before = _run_ids(algo_folder, env_folder_name(env))
        return _Active(key, variant, env, seed, process, log, started, before, log_offset=offset)

    def _find_folder(self, run: _Active) -> None:
        """The run's folder: the one RL Zoo names in the worker's log (``Log path: ...``, printed once
        the folder is made), so that a run of another runner on the same log folder, started at
        the same moment, is never taken for this one. A worker that ended before printing it (a
        failure at start) gets the folder that appeared under its algorithm since its launch."""
        folder = logged_folder(run.log, run.log_offset)
        if folder is None and run.process.poll() is not None:
            env_name = env_folder_name(run.env)
            algo_folder = self.log_folder / run.variant.algo
            new = _run_ids(algo_folder, env_name) - run.before
            folder = algo_folder / f"{env_name}_{min(new)}" if new else None
        if folder is not None:
            run.folder = folder
            self.manifest[run.key]["folder"] = str(run.folder)
            self._save()

    def _finish(self, run: _Active) -> str:
        code = run.process.returncode
        if run.folder is None:
            self._find_folder(run)
        entry = self.manifest[run.key]
        entry["wall_time_s"] = round(time.time() - run.started, 1)
        final_model = run.folder / f"{env_folder_name(run.env)}.zip" if run.folder else None
        if self._stop or code in STOPPED_BY_SIGNAL:  # saved by its signal handler, not finished
            entry["status"] = "interrupted"
        elif code == 0 and final_model is not None and final_model.is_file():
            entry["status"] = "finished"
            record_evaluations(entry, run.folder)
            if (settings := run_settings(run.folder)) is not None:
                entry["settings"] = settings
            for folder in [run.folder, *(Path(s["folder"]) for s in entry.get("segments", []))]:
                (folder / REPLAY_FILE).unlink(missing_ok=True)  # only a stopped run needs its replay
        else:
            entry["status"] = "failed"
            entry["returncode"] = code
        self._save()
        return entry["status"]

    def _stop_all(self, active: list[_Active]) -> None:
        for run in active:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.process.pid, signal.SIGTERM)
        deadline = time.time() + 30
        for run in active:
            try:
                run.process.wait(timeout=max(deadline - time.time(), 0.1))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(run.process.pid, signal.SIGKILL)
                run.process.wait()
            self._finish(run)

    def run(self) -> dict[str, int]:
        """Train what is left; returns counts ``{"finished", "failed", "skipped"}``.

        :raises KeyboardInterrupt: after stopping the workers and saving the manifest, on
            Ctrl-C or SIGTERM
        """

        with self._exclusive(), signal_handlers(self._on_sigterm, (signal.SIGTERM,)):
            return self._run()

    @contextlib.contextmanager
    def _exclusive(self) -> Any:
        """One runner per ``--out`` folder: a second one would rewrite the manifest under the first."""

        with open(self.out / ".runs.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise ValueError(f"another sb3-atari benchmark is running with --out {self.out}") from None
            self.manifest = load_manifest(self.out)  # what the previous runner left
            if record_missing_settings(self.manifest):
                self._save()
            yield

    def _run(self) -> dict[str, int]:
        todo = self.todo()
        counts = {"finished": 0, "failed": 0, "skipped": len(self.grid.runs()) - len(todo)}
        bar = self._progress_bar(todo)
        active: list[_Active] = []
        try:
            while todo or active:
                starting = {(r.variant.algo, r.env) for r in active if r.folder is None}
                for item in list(todo):
                    if len(active) >= self.workers:
                        break
                    _, variant, env, _ = item
                    if (variant.algo, env) in starting:
                        continue  # RL Zoo numbers run folders: start one run per (algo, env) at a time
                    active.append(self._launch(*item))
                    starting.add((variant.algo, env))
                    todo.remove(item)
                time.sleep(0.5)
                for run in list(active):
                    if run.folder is None:
                        self._find_folder(run)
                    if run.process.poll() is not None:
                        active.remove(run)
                        status = self._finish(run)
                        counts["finished" if status == "finished" else "failed"] += 1
                        if status != "finished" and bar is not None:
                            bar.write(f"run failed: {run.variant.name} {run.env} seed {run.seed} (log: {run.log})")
                if bar is not None:
                    done = len(self.grid.runs()) - len(todo) - len(active)
                    total = sum(self.grid.budget_of(v) for v, _, _ in self.grid.runs())
                    left = sum(self.grid.budget_of(item[1]) for item in todo) + sum(
                        self.grid.budget_of(r.variant) - min(latest_timesteps(r.log), self.grid.budget_of(r.variant))
                        for r in active
                    )
                    bar.set_postfix_str(f"runs {done}/{len(self.grid.runs())}, {len(active)} running", refresh=False)
                    bar.update(max(total - left - bar.n, 0))
        except KeyboardInterrupt:
            self._stop = True
            self._stop_all(active)
            raise
        finally:
            if bar is not None:
                bar.close()
        return counts

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def _progress_bar(self, todo: list[tuple[str, Variant, str, int]]) -> Any:
        """One bar over the agent steps of every run of the grid (each at its variant's budget)."""
        if not self.progress:
            return None

        total = sum(self.grid.budget_of(v) for v, _, _ in self.grid.runs())
        initial = total - sum(self.grid.budget_of(item[1]) for item in todo)
        return tqdm(total=total, initial=initial, unit="step", unit_scale=True, desc="benchmark", dynamic_ncols=True)
