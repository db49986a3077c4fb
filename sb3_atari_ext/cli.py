"""``sb3-atari``: the command line of sb3-atari-ext.

- ``sb3-atari plugins [--json]``: installed plugins, their versions and what each registers.
- ``sb3-atari train ARGS``: ``python -m rl_zoo3.train ARGS`` with every plugin's algorithms,
  without relying on the ``.pth`` autoload hook.
- ``sb3-atari enjoy ARGS``: the same for ``rl_zoo3.enjoy``.
- ``sb3-atari feature-maps --model PATH --env ENV --out DIR``: PNG images of the last conv
  layer's feature maps (and attention weights of Transformer models) over a few steps of play.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


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
        for kind, names in plugin["registers"].items():
            print(f"  {kind}: {', '.join(names)}")
    return 0


def _cmd_feature_maps(args: argparse.Namespace) -> int:
    from pathlib import Path

    import ale_py
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack, VecTransposeImage

    from sb3_atari_ext.analysis.feature_maps import write_feature_maps
    from sb3_atari_ext.plugins import get_registry

    if not Path(args.model).is_file():
        raise SystemExit(f"error: model file not found: {args.model}")
    algo = get_registry().algorithms().get(args.algo)
    if algo is None:
        from rl_zoo3.utils import ALGOS

        algo = ALGOS.get(args.algo)
    if algo is None:
        raise SystemExit(f"error: unknown algorithm {args.algo!r}")
    model = algo.load(args.model, device="cpu")
    gym.register_envs(ale_py)
    n_stack = model.observation_space.shape[0]
    env = VecTransposeImage(VecFrameStack(make_atari_env(args.env, n_envs=1, seed=args.seed), n_stack=n_stack))
    try:
        files = write_feature_maps(model, env, args.out, steps=args.steps)
    finally:
        env.close()
    print(f"wrote {len(files)} images to {args.out}")
    return 0


def _run_zoo(script: str, argv: Sequence[str]) -> int:
    from sb3_atari_ext.zoo import bridge

    bridge.apply()
    if script == "train":
        from rl_zoo3.train import train as entry
    else:
        from rl_zoo3.enjoy import enjoy as entry
    sys.argv = [f"rl_zoo3.{script}", *argv]
    entry()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="sb3-atari", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    plugins = sub.add_parser("plugins", help="list installed plugins and what they register")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    maps = sub.add_parser("feature-maps", help="PNG images of a trained model's conv feature maps and attention")
    maps.add_argument("--model", required=True, help="path of a saved model (.zip)")
    maps.add_argument("--env", required=True, help="Atari env id, e.g. SpaceInvadersNoFrameskip-v4")
    maps.add_argument("--out", required=True, help="output folder")
    maps.add_argument("--algo", default="ddqn_prio", help="algorithm of the model (default: ddqn_prio)")
    maps.add_argument("--steps", type=int, default=4, help="steps to play (one set of images per step)")
    maps.add_argument("--seed", type=int, default=0)
    sub.add_parser("train", help="rl_zoo3.train with all plugins (arguments are passed through)", add_help=False)
    sub.add_parser("enjoy", help="rl_zoo3.enjoy with all plugins (arguments are passed through)", add_help=False)

    # train/enjoy pass everything after the sub-command to RL Zoo's own parser.
    if argv and argv[0] in ("train", "enjoy"):
        return _run_zoo(argv[0], argv[1:])
    args = parser.parse_args(argv)
    if args.command == "feature-maps":
        return _cmd_feature_maps(args)
    return _cmd_plugins(args)


if __name__ == "__main__":
    sys.exit(main())
