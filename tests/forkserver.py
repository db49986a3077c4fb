"""``python -m MODULE ARGS`` for many short commands, without paying the heavy imports each time.

A real ``python -m rl_zoo3.train`` spends ~3 s importing torch, SB3, Optuna and matplotlib before it
reads its first argument; a table of bad inputs that each end in one error line pays that dozens of
times. The server (this file, run as a script) imports those third-party packages once, then forks
one child per command. The child becomes what ``python -m`` would have made: environment, working
directory, ``sys.argv`` / ``sys.orig_argv``, ``sys.path[0]`` and a fresh temporary directory; it
runs the module as ``__main__`` and ends as the interpreter would (uncaught exception through
``sys.excepthook``, ``SystemExit`` codes and messages, non-daemon threads joined, ``atexit``
handlers). Our own code and RL Zoo are imported in the child only, so every import hook of the
bridge (which looks at how the process was started) runs as in a real start.

Protocol: one JSON request per line on stdin (``module``, ``args``, ``cwd``, ``env``, ``stdout``,
``stderr``: the files the child writes), one JSON reply per line on stdout (``rc``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys

#: third-party packages RL Zoo and our modules import (none of ours, none of RL Zoo's); missing ones are skipped
PRELOAD = (
    "numpy",
    "torch",
    "gymnasium",
    "ale_py",
    "stable_baselines3",
    "sb3_contrib",
    "optuna",
    "optuna.visualization",
    "optuna.visualization.matplotlib",
    "matplotlib.pyplot",
    "numba",
    "cv2",
    "huggingface_sb3",
    "yaml",
)


def _child(request: dict) -> None:
    import atexit
    import runpy
    import tempfile
    import threading

    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    tempfile.tempdir = None  # read TMPDIR again
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    module, args = request["module"], request["args"]
    sys.argv = [module, *args]
    sys.orig_argv = [sys.executable, "-m", module, *args]
    sys.path[0] = os.getcwd()  # what -m puts first
    code = 0
    try:
        runpy._run_module_as_main(module, alter_argv=True)
    except SystemExit as stop:
        if stop.code is None:
            code = 0
        elif isinstance(stop.code, int):
            code = stop.code
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    try:
        threading._shutdown()
        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)  # the requests are the server's, not the command's
            os.close(devnull)
            _child(request)
        _, status = os.waitpid(pid, 0)
        rc = os.waitstatus_to_exitcode(status)
        sys.stdout.write(json.dumps({"rc": rc}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
