"""``sb3-atari``: the command line of sb3-atari-ext.

- ``sb3-atari plugins [--json]``: installed plugins, their versions and what each registers.
- ``sb3-atari train ARGS``: ``python -m rl_zoo3.train ARGS`` with every plugin's algorithms,
  without relying on the ``.pth`` autoload hook.
- ``sb3-atari enjoy ARGS``: the same for ``rl_zoo3.enjoy``.
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
    sub.add_parser("train", help="rl_zoo3.train with all plugins (arguments are passed through)", add_help=False)
    sub.add_parser("enjoy", help="rl_zoo3.enjoy with all plugins (arguments are passed through)", add_help=False)

    # train/enjoy pass everything after the sub-command to RL Zoo's own parser.
    if argv and argv[0] in ("train", "enjoy"):
        return _run_zoo(argv[0], argv[1:])
    args = parser.parse_args(argv)
    return _cmd_plugins(args)


if __name__ == "__main__":
    sys.exit(main())
