"""Every documented command works on the base install: the optional extras' modules are made
unimportable in the subprocesses (a meta-path blocker loaded by ``sitecustomize``), so a command
that imports an undeclared dependency fails here, and one that needs an extra must say so in one
line before doing any work."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

# the modules of the optional extras (envpool, postgres, ray, docs, test)
BLOCKED = ("envpool", "psycopg", "psycopg2", "ray", "sphinx", "myst_parser", "playwright", "hypothesis", "pytest")

BLOCKER = textwrap.dedent(
    f"""
    import sys
    from importlib.machinery import PathFinder

    BLOCKED = {BLOCKED!r}


    class _WithoutExtras:
        # PathFinder, blind to the extras' modules: to importers and to importlib.util.find_spec
        # probes (torch's, for one) they look exactly as if they were not installed
        @classmethod
        def find_spec(cls, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                return None
            return PathFinder.find_spec(name, path, target)

        @classmethod
        def invalidate_caches(cls):
            PathFinder.invalidate_caches()

        @classmethod
        def find_distributions(cls, *args, **kwargs):  # importlib.metadata asks the finders
            return PathFinder.find_distributions(*args, **kwargs)


    sys.meta_path[:] = [_WithoutExtras if finder is PathFinder else finder for finder in sys.meta_path]
    """
)


@pytest.fixture(scope="module")
def base_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("blocker")
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    env.pop("SB3_ATARI_EXT_DEBUG", None)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_the_blocker_blocks(base_env: dict[str, str], tmp_path: Path) -> None:
    for module in ("ray", "psycopg", "envpool", "hypothesis"):
        done = run(["-c", f"import {module}"], base_env, tmp_path)
        assert done.returncode != 0 and f"No module named '{module}'" in done.stderr


def test_every_command_on_the_base_install(base_env: dict[str, str], tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    train = ["-m", "rl_zoo3.train", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-n", "400", "-f", str(logs)]
    done = run([*train, "--seed", "1", "-params", "learning_starts:100"], base_env, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (logs / "ddqn_prio" / "CartPole-v1_1" / "CartPole-v1.zip").is_file()

    enjoy = ["-m", "rl_zoo3.enjoy", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-f", str(logs), "-n", "300", "--no-render"]
    done = run(enjoy, base_env, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Episode Reward" in done.stdout

    # every sb3-atari subcommand, in one interpreter: each does real work on the run above
    script = textwrap.dedent(
        f"""
        import sys
        from sb3_atari_ext.cli import main

        logs, out = {str(logs)!r}, {str(tmp_path / "report")!r}
        commands = [
            ["plugins"],
            ["evaluate", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-f", logs, "--episodes", "2"],
            ["report", "-f", logs, "--out", out, "--gif-frames", "20"],
            ["switch", "--help"],
            ["study", "--help"],
            ["dashboard", "--help"],
            ["apex", "--help"],
            ["feature-maps", "--help"],
            ["benchmark", "--algos", "ddqn_prio", "--envs", "CartPole-v1", "-n", "300", "--seeds", "1",
             "--workers", "1", "-f", logs, "--out", out + "-bench", "--random-episodes", "2", "--eval-episodes", "2",
             "--eval-freq", "150", "--no-progress"],
        ]
        for argv in commands:
            try:
                code = main(argv)
            except SystemExit as stop:
                code = stop.code
            print("EXIT", argv[0], code, flush=True)
        """
    )
    done = run(["-c", script], base_env, tmp_path, timeout=400)
    exits = dict(line.split()[1:3] for line in done.stdout.splitlines() if line.startswith("EXIT "))
    assert exits == dict.fromkeys(
        ["plugins", "evaluate", "report", "switch", "study", "dashboard", "apex", "feature-maps", "benchmark"], "0"
    ), (done.stdout[-3000:], done.stderr[-3000:])
    assert (tmp_path / "report" / "index.html").is_file()
    assert (tmp_path / "report-bench" / "report.md").is_file()


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["--algo", "apex_ddqn", "--env", "CartPole-v1", "-n", "200"], "ray"),
        (
            [
                "--algo",
                "ddqn_prio",
                "--env",
                "CartPole-v1",
                "-n",
                "200",
                "--optimize",
                "--n-trials",
                "1",
                "--storage",
                "postgresql+psycopg://user:secret@127.0.0.1:1/db",
                "--study-name",
                "s",
            ],
            "postgres",
        ),
    ],
    ids=["apex-without-ray", "postgres-storage-without-psycopg"],
)
def test_a_command_that_needs_an_extra_says_so_in_one_line(
    base_env: dict[str, str], tmp_path: Path, args: list[str], extra: str
) -> None:
    done = run(["-m", "rl_zoo3.train", *args, "-f", str(tmp_path / "logs")], base_env, tmp_path)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and done.stderr.rstrip().endswith(errors[0]), done.stderr[-3000:]
    assert f"sb3-atari-ext[{extra}]" in errors[0]
    assert "secret" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "logs").exists() or not any((tmp_path / "logs").rglob("*.zip"))
