"""``sb3-atari``: the command line of sb3-atari-ext.

- ``sb3-atari plugins [--json]``: installed plugins, their versions and what each registers.
- ``sb3-atari train ARGS``: ``python -m rl_zoo3.train ARGS`` with every plugin's algorithms,
  without relying on the ``.pth`` autoload hook.
- ``sb3-atari enjoy ARGS``: the same for ``rl_zoo3.enjoy``.
- ``sb3-atari feature-maps --model PATH --env ENV --out DIR``: PNG images of the last conv
  layer's feature maps (and attention weights of Transformer models) over a few steps of play.
- ``sb3-atari study --storage URL --study-name NAME [--out FILE.yml] [--plot FILE.png]``: the
  best trial of an ``rl_zoo3.train --optimize`` study, its hyperparameters as an RL Zoo yaml,
  parameter importances and a PNG of the optimization history.
- ``sb3-atari evaluate --algo A --env E -f logs/ [--episodes N] [--json]``: the trained agent and a
  uniform-random agent on the same seeds, with the human-normalized score.
- ``sb3-atari report -f logs/ --out DIR``: PNG plots of all runs, a gameplay GIF, ``index.html``.
- ``sb3-atari dashboard --logs logs/ [--port 5000] [--storage URL]``: the Dash dashboard.
- ``sb3-atari benchmark --algos dqn ddqn_prio --envs MinAtar/Breakout-v1 --seeds 3 -n 500000
  --workers 2 -f logs --out report/ [--grid grid.yml] [--variant NAME=ALGO KEY:VALUE...]``: a grid
  of RL Zoo trainings (resumable), aggregated (IQM, bootstrap CIs) into report.md, summary.json and PNGs.
- ``sb3-atari apex status RUN_FOLDER [--json] [--watch SECONDS]``: actors and learner of an
  ``apex_ddqn`` run (its ``apex_status.json``).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Callable, Sequence

import numpy as np

from sb3_atari_ext.common.arguments import OneLineParser, one_line_errors_in


def _cmd_plugins(args: argparse.Namespace) -> int:
    from sb3_atari_ext.plugins import get_registry

    plugins = get_registry().describe()
    if args.json:
        print(json.dumps(plugins, indent=2))
        return 0
    if not plugins:
        print("No plugins installed.")
        return 0
    for plugin in plugins:
        print(f"{plugin['name']}  ({plugin['distribution']} {plugin['version']}, module {plugin['module']})")
        if plugin["error"]:
            print(f"  FAILED TO LOAD: {plugin['error']}")
            continue
        if plugin.get("disabled"):
            print(f"  DISABLED: {plugin['disabled']}")
            continue
        for kind, names in plugin["registers"].items():
            print(f"  {kind}: {', '.join(names)}")
    return 0


def _cmd_feature_maps(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sb3_atari_ext.analysis.feature_maps import write_feature_maps

    model = _load(args.algo, args.model)
    out = args.out or str(Path(args.model).parent / "feature_maps")
    env = _atari_vec_env(args.env, model.observation_space.shape[0], args.seed)
    try:
        files = write_feature_maps(model, env, out, steps=args.steps)
    finally:
        env.close()
    print(f"wrote {len(files)} images to {out}")
    return 0


def _atari_vec_env(env_id: str, n_stack: int, seed: int):
    import ale_py
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack, VecTransposeImage

    gym.register_envs(ale_py)
    spec = gym.registry.get(env_id)
    if spec is None:
        close = difflib.get_close_matches(env_id, [i for i in gym.registry if "NoFrameskip" in i], n=1)
        hint = f"; did you mean {close[0]}?" if close else " such as SpaceInvadersNoFrameskip-v4"
        raise CommandError(f"unknown env id {env_id!r}: --env takes an Atari id{hint}")
    if not str(spec.entry_point).startswith("ale_py"):
        raise CommandError(f"--env {env_id} is not an Atari game (ale-py): this command takes ids such as PongNoFrameskip-v4")
    return VecTransposeImage(VecFrameStack(make_atari_env(env_id, n_envs=1, seed=seed), n_stack=n_stack))


def _load(algo_name: str, path: str):
    from pathlib import Path

    from sb3_atari_ext.analysis.runs import load_model

    if not Path(path).is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    return load_model(algo_name, path, device="cpu")


def _cmd_switch(args: argparse.Namespace) -> int:
    from stable_baselines3.common.evaluation import evaluate_policy

    from sb3_atari_ext.switcher import ModelSwitcher

    models = [_load(args.algo, path) for path in args.models]
    kwargs = {}
    for item in args.condition_kwarg:
        key, _, value = item.partition("=")
        kwargs[key] = float(value) if value.replace(".", "", 1).lstrip("-").isdigit() else value
    switcher = ModelSwitcher(models, args.condition, kwargs)
    env = _atari_vec_env(args.env, models[0].observation_space.shape[0], args.seed)
    try:
        rewards, lengths = evaluate_policy(
            switcher,
            env,
            n_eval_episodes=args.episodes,
            deterministic=True,
            callback=switcher.callback,
            return_episode_rewards=True,
            warn=False,
        )
    finally:
        env.close()
    a, b = switcher.steps_per_model
    print(f"episodes: {len(rewards)}  mean reward: {np.mean(rewards):.1f}  mean length: {np.mean(lengths):.0f}")
    print(f"steps with model A: {a}  with model B: {b}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    return _run_zoo("train", args.zoo_args)


def _cmd_enjoy(args: argparse.Namespace) -> int:
    return _run_zoo("enjoy", args.zoo_args)


def _run_zoo(script: str, argv: Sequence[str]) -> int:
    from sb3_atari_ext.zoo import autoload

    autoload.apply()
    if script == "train":
        from rl_zoo3.train import train as entry

        from sb3_atari_ext.zoo.env_backends import cli_to_params
        from sb3_atari_ext.zoo.resume import resume_to_zoo

        argv = cli_to_params(list(argv))  # --vec-env envpool: RL Zoo's parser knows only dummy/subproc
        argv = resume_to_zoo(argv)  # --resume CHECKPOINT: -i that keeps counting steps
    else:
        from rl_zoo3.enjoy import enjoy as entry

        from sb3_atari_ext.zoo.errors import interrupts_exit_130

        interrupts_exit_130()  # RL Zoo's enjoy returns normally after Ctrl-C
    one_line_errors_in(sys.modules[entry.__module__], f"sb3-atari {script}")
    sys.argv = [f"rl_zoo3.{script}", *argv]
    entry()
    return 0


def _cmd_study(args: argparse.Namespace) -> int:
    from sb3_atari_ext.analysis.study import report

    report(args.storage, args.study_name, out=args.out, plot=args.plot)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from sb3_atari_ext.analysis.evaluate import evaluate, format_table

    if args.episodes < 1:
        raise CommandError("--episodes must be >= 1")
    import contextlib

    # RL Zoo prints while building envs ("Stacking 4 frames"): keep stdout for the JSON document
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        result = evaluate(
            args.algo,
            args.env,
            args.folder,
            episodes=args.episodes,
            seed=args.seed,
            deterministic=args.deterministic,
            exp_id=args.exp_id,
            show_progress=not args.json,
        )
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sb3_atari_ext.analysis.report import write_report

    if args.gif_frames < 0:
        raise CommandError(f"--gif-frames {args.gif_frames}: expected 0 (no GIF) or more frames")
    if args.out is None:
        args.out = str(Path(args.folder).resolve().parent / "report")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise CommandError(f"--out {args.out} is a file; give a folder for the report")
    written = write_report(args.folder, args.out, gif_frames=args.gif_frames)
    print(
        f"wrote {len(written['images'])} plots{' and gameplay.gif' if written.get('gif_frames') else ''}"
        f" and index.html to {args.out}"
    )
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from sb3_atari_ext.dashboard.app import serve

    serve(args.logs, port=args.port, host=args.host, storage=args.storage, allowed_hosts=args.allow_host)
    # the server runs until Ctrl-C, which Flask's server catches and returns from
    print("interrupted: the dashboard stopped", file=sys.stderr)
    return 130


def _cmd_apex(args: argparse.Namespace) -> int:
    import time

    from sb3_atari_ext.apex.status import format_status, read_status

    while True:
        status = read_status(args.folder)
        print(json.dumps(status, indent=1) if args.json else format_status(status), flush=True)
        if not args.watch or status.get("state") != "running":
            return 0
        time.sleep(args.watch)
        print()


def _known_envs() -> set[str]:
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    return set(gym.registry)


def _cmd_benchmark(args: argparse.Namespace) -> int:
    import os

    from sb3_atari_ext.benchmark import BenchmarkRunner, build_grid, check_grid

    args.interrupted = "finished runs are kept, run the same command again to train the rest"
    counts = {"--workers": args.workers, "--eval-episodes": args.eval_episodes, "--seeds": args.seeds,
              "-n": args.n_timesteps, "--eval-freq": args.eval_freq, "--random-episodes": args.random_episodes}  # fmt: skip
    for option, value in counts.items():
        if value is not None and value < 1:
            raise CommandError(f"{option} {value}: expected an integer >= 1")
    grid = build_grid(
        args.grid,
        algos=args.algos,
        variants=args.variant,
        envs=args.envs,
        seeds=args.seeds,
        budget=args.n_timesteps,
        baseline=args.baseline,
        eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes,
    )
    if grid.baseline is None:
        names = [v.name for v in grid.variants]
        grid.baseline = "dqn" if "dqn" in names else names[0]
    from sb3_atari_ext.zoo import autoload

    autoload.apply()  # every plugin's algorithms and env ids, as the workers will see them
    from rl_zoo3.utils import ALGOS

    check_grid(grid, set(ALGOS), _known_envs())
    from sb3_atari_ext.benchmark.report import write_report

    if not args.report_only:
        workers = args.workers or os.cpu_count() or 1
        counts = BenchmarkRunner(grid, args.log_folder, args.out, workers=workers, progress=not args.no_progress).run()
        print(f"runs: {counts['finished']} trained, {counts['skipped']} already finished, {counts['failed']} failed")
    summary = write_report(grid, args.out, random_episodes=args.random_episodes)
    for name, entry in summary["algorithms"].items():
        if "iqm" in entry:
            low, high = entry["iqm_ci"]
            print(f"{name}: IQM {entry['iqm']:.3f} [{low:.3f}, {high:.3f}] over {entry['runs']} runs")
    for target in summary["targets"]:
        final, tail = target["final"], target["tail"]
        print(f"target {target['target']}: {final['status']} ({final['detail']}); on the mean of the last "
              f"{summary['tail_evaluations']} evaluations: {tail['status']}")  # fmt: skip
    print(f"wrote report.md, summary.json and the plots to {args.out}")
    return 0


class _DefaultsFormatter(argparse.HelpFormatter):
    """Shows ``(default: X)`` after an option's help when it has a meaningful default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        meaningful = not (default is None or default is False or default == [] or default == argparse.SUPPRESS)
        if meaningful and "default" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    """The ``sb3-atari`` parser with every sub-command (``train`` / ``enjoy`` pass their arguments to RL Zoo)."""
    parser = OneLineParser(
        prog="sb3-atari", description="The command line of sb3-atari-ext: plugins, evaluation, reports, dashboard, benchmarks."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    class _Sub:  # every sub-command: its help as its description, defaults shown in --help
        @staticmethod
        def add_parser(name: str, help: str, **kwargs) -> argparse.ArgumentParser:
            kwargs.setdefault("formatter_class", _DefaultsFormatter)
            return subparsers.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".", **kwargs)

    sub = _Sub()
    plugins = sub.add_parser("plugins", help="list installed plugins and what they register")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    maps = sub.add_parser("feature-maps", help="PNG images of a trained model's conv feature maps and attention")
    maps.add_argument("--model", required=True, help="path of a saved model (.zip)")
    maps.add_argument("--env", required=True, help="Atari env id, e.g. SpaceInvadersNoFrameskip-v4")
    maps.add_argument("--out", default=None,
                      help="output folder (default: feature_maps/ next to the model, where the dashboard shows them)")
    maps.add_argument("--algo", default="ddqn_prio", help="algorithm of the model")
    maps.add_argument("--steps", type=int, default=4, help="steps to play (one set of images per step)")
    maps.add_argument("--seed", type=int, default=0, help="seed of the env")
    switch = sub.add_parser("switch", help="play and evaluate two models with a switch condition (A, then B)")
    switch.add_argument("--models", nargs=2, required=True, metavar=("A", "B"), help="saved models (.zip)")
    switch.add_argument("--env", required=True, help="Atari env id")
    switch.add_argument("--condition", required=True, help="registered switch condition, e.g. lives_below")
    switch.add_argument("--condition-kwarg", action="append", default=[], metavar="KEY=VALUE",
                        help="an argument of the condition, e.g. lives=2 (repeatable)")
    switch.add_argument("--algo", default="ddqn_prio", help="algorithm of both models")
    switch.add_argument("--episodes", type=int, default=1, help="episodes to play")
    switch.add_argument("--seed", type=int, default=0, help="seed of the env")
    study = sub.add_parser("study", help="best trial of an Optuna study as an RL Zoo yaml, importances, history plot")
    study.add_argument("--storage", required=True, help="journal file (logs/<algo>/optuna.log) or database URL")
    study.add_argument("--study-name", required=True, help="the study's name (rl_zoo3.train --study-name)")
    study.add_argument("--out", default=None, help="yaml to write (default: <study name>.yml)")
    study.add_argument("--plot", default=None, help="PNG to write (default: the yaml's name with .png)")
    ev = sub.add_parser("evaluate", help="trained agent vs uniform-random agent on the same seeds, human-normalized score")
    ev.add_argument("--algo", required=True, help="algorithm of the run, e.g. ddqn_prio")
    ev.add_argument("--env", required=True, help="env id of the run, e.g. SpaceInvadersNoFrameskip-v4")
    ev.add_argument("-f", "--folder", default="logs", help="RL Zoo log folder")
    ev.add_argument("--exp-id", type=int, default=0, help="run id (0: the latest)")
    ev.add_argument("--episodes", type=int, default=10, help="episodes per agent")
    ev.add_argument("--seed", type=int, default=0, help="episode i uses seed + i, for both agents")
    ev.add_argument("--deterministic", action="store_true", help="greedy actions for the trained agent")
    ev.add_argument("--json", action="store_true", help="machine-readable output")
    rep = sub.add_parser("report", help="PNG plots of all runs, a gameplay GIF and index.html")
    rep.add_argument("-f", "--folder", default="logs", help="RL Zoo log folder")
    rep.add_argument("--out", default=None, help="output folder (default: report/ beside the log folder)")
    rep.add_argument("--gif-frames", type=int, default=300, help="frames of the gameplay GIF (0: none)")
    dash = sub.add_parser("dashboard", help="the Dash dashboard over a logs folder (read-only)")
    dash.add_argument("--logs", default="logs", help="RL Zoo log folder to show")
    dash.add_argument("--port", type=int, default=5000, help="TCP port to listen on")
    dash.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1: this machine only)")
    dash.add_argument("--storage", default=None, help="an Optuna storage URL to show besides logs/*/optuna.log")
    dash.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                      help="also accept this Host header name (localhost names and the bound address always are)")
    bench = sub.add_parser("benchmark", help="train a grid of variants x envs x seeds through RL Zoo and compare them")
    bench.add_argument("--algos", nargs="+", metavar="NAME", help="algorithms, or variants defined in --grid/--variant")
    bench.add_argument("--variant", action="append", default=[], metavar="'NAME=ALGO KEY:VALUE ...'",
                       help="a named variant: an algorithm with -params (repeatable)")
    bench.add_argument("--envs", nargs="+", metavar="ENV_ID", help="gymnasium env ids, e.g. MinAtar/Breakout-v1")
    bench.add_argument("--seeds", type=int, default=None, help="seeds per variant and env (default: 3)")
    bench.add_argument("-n", "--n-timesteps", type=int, default=None, help="agent steps per run (default: 500000)")
    bench.add_argument("--grid", default=None, help="grid yaml (budget, seeds, envs, variants, references)")
    bench.add_argument("--workers", type=int, default=None, help="runs at a time (default: the number of cores)")
    bench.add_argument("-f", "--log-folder", default="logs", help="RL Zoo log folder")
    bench.add_argument("--out", required=True, help="folder of runs.json, the worker logs and the report")
    bench.add_argument("--baseline", default=None, help="variant that normalizes the scores (default: dqn, else the first)")
    bench.add_argument("--eval-freq", type=int, default=None, help="agent steps between evaluations (default: budget/10)")
    bench.add_argument("--eval-episodes", type=int, default=None, help="episodes per evaluation (default: 10)")
    bench.add_argument("--random-episodes", type=int, default=10, help="episodes of the random agent per game")
    bench.add_argument("--report-only", action="store_true", help="aggregate the finished runs; train nothing")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    apex = sub.add_parser("apex", help="Ape-X (apex_ddqn) runs: the live state of actors and learner")
    apex_sub = apex.add_subparsers(dest="apex_command", required=True, metavar="SUBCOMMAND")
    apex_status = apex_sub.add_parser("status", help="actors and learner of an apex_ddqn run (apex_status.json)")
    apex_status.add_argument("folder", help="the run folder (logs/apex_ddqn/<env>_<n>) or its apex_status.json")
    apex_status.add_argument("--json", action="store_true", help="the status file as JSON")
    apex_status.add_argument("--watch", type=float, default=0, metavar="SECONDS",
                             help="print again every SECONDS while running")
    # train/enjoy pass everything after the sub-command to RL Zoo's own parser (its --help too)
    for name, verb, extra in (
        ("train", "rl_zoo3.train", "; --resume CHECKPOINT continues a stopped run to its -n budget"),
        ("enjoy", "rl_zoo3.enjoy", ""),
    ):
        text = f"{verb} with all plugins (arguments are passed through{extra})"
        zoo = subparsers.add_parser(name, help=text, add_help=False)
        zoo.add_argument("zoo_args", nargs=argparse.REMAINDER)
    parser.commands = subparsers.choices  # the sub-command parsers, by name
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    handlers = {
        "plugins": _cmd_plugins, "feature-maps": _cmd_feature_maps, "switch": _cmd_switch, "study": _cmd_study,
        "evaluate": _cmd_evaluate, "report": _cmd_report, "dashboard": _cmd_dashboard, "benchmark": _cmd_benchmark,
        "apex": _cmd_apex, "train": _cmd_train, "enjoy": _cmd_enjoy,
    }  # fmt: skip
    if argv and argv[0] in ("train", "enjoy"):  # REMAINDER would still parse a leading option
        args = argparse.Namespace(command=argv[0], zoo_args=argv[1:])
    else:
        args, extra = parser.parse_known_args(argv)
        if extra:  # named in the sub-command's line, which points at its own --help
            parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    return run_command(handlers[args.command], args)


def _one_line_warnings(default: Callable[..., None]) -> Callable[..., None]:
    """``warnings.showwarning`` that prints warnings about the user's files as one ``warning:`` line
    (Python's own format adds the warning's source line)."""
    from sb3_atari_ext.analysis.runs import UnreadableRunFileWarning

    shown: set[str] = set()

    def show(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
        if issubclass(category, UnreadableRunFileWarning):
            if str(message) not in shown:  # once per file, however often it is read
                shown.add(str(message))
                print(f"\nwarning: {message}", file=sys.stderr)
        else:
            default(message, category, *args, **kwargs)

    return show


class CommandError(Exception):
    """A user mistake found by a command itself (the message is the whole error line)."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions that mean a user mistake (bad value, missing file, unknown name, bad storage)."""
    from gymnasium.error import Error as GymnasiumError  # an env id or version gymnasium does not know

    from sb3_atari_ext.common.storage import StorageError

    paths = (FileNotFoundError, NotADirectoryError, IsADirectoryError, FileExistsError, PermissionError)
    return (CommandError, ValueError, KeyError, *paths, ImportError, StorageError, GymnasiumError)


def run_command(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one sub-command; a user mistake is one ``error:`` line on stderr and exit status 2,
    an interruption exit status 130 (``SB3_ATARI_EXT_DEBUG=1`` shows the traceback instead)."""
    import warnings

    from sb3_atari_ext.zoo.errors import _debug

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warnings(warnings.showwarning)
            return handler(args)
    except BrokenPipeError:  # `sb3-atari plugins | head`: the reader left; no traceback
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        hint = getattr(args, "interrupted", None)
        print(f"error: interrupted{'; ' + hint if hint else ''}", file=sys.stderr)
        return 130
    except user_error_types() as exc:
        if _debug():
            raise
        from sb3_atari_ext.common.validation import first_line

        shown = ValueError(exc.args[0]) if isinstance(exc, KeyError) and exc.args else exc  # KeyError's repr quotes
        if isinstance(exc, OSError) and exc.strerror and exc.filename:  # not "[Errno 17] File exists: 'x'"
            shown = ValueError(f"{exc.filename}: {exc.strerror.lower()}")
        print(f"error: {first_line(shown)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
