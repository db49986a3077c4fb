"""Command-line mistakes as one line: our parser, and RL Zoo's scripts through the bridge."""

import argparse
import types

import pytest

from sb3_atari_ext.common.arguments import OneLineArguments, OneLineParser, one_line_errors_in
from tests.conftest import run


def _script_module() -> types.ModuleType:
    """A module that builds its parser from its global ``argparse``, as RL Zoo's scripts do."""
    module = types.ModuleType("script")
    exec("import argparse\ndef parse(argv):\n    p = argparse.ArgumentParser(prog='train.py')\n"
         "    p.add_argument('-n', type=int)\n    return p.parse_args(argv)\n", module.__dict__)  # fmt: skip
    return module


def test_a_mistake_is_one_line_naming_the_help_command(capsys):
    parser = OneLineParser(prog="sb3-atari report")
    parser.add_argument("--out", required=True)
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args([])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == "error: the following arguments are required: --out (see sb3-atari report --help)\n"


def test_only_the_scripts_own_argparse_name_changes(capsys):
    module = _script_module()
    assert one_line_errors_in(module, "python -m rl_zoo3.train")
    assert isinstance(module.argparse, OneLineArguments)
    assert module.argparse.Namespace is argparse.Namespace  # the rest of argparse is argparse's
    assert argparse.ArgumentParser is not module.argparse.ArgumentParser  # nothing else in the process changes
    assert module.parse(["-n", "3"]).n == 3
    with pytest.raises(SystemExit) as stopped:
        module.parse(["-n", "abc"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err == "error: argument -n: invalid int value: 'abc' (see python -m rl_zoo3.train --help)\n"
    assert one_line_errors_in(module, "other")  # idempotent: the first command stays
    assert module.argparse.ArgumentParser.help_command == "python -m rl_zoo3.train"


def test_a_module_without_argparse_is_left_alone():
    module = types.ModuleType("plain")
    module.argparse = object()  # another thing under that name
    assert not one_line_errors_in(module, "x")
    assert not one_line_errors_in(None, "x")


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, line",
    [
        (["-m", "rl_zoo3.train", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-n", "abc"],
         "error: argument -n/--n-timesteps: invalid int value: 'abc' (see python -m rl_zoo3.train --help)"),
        (["-m", "rl_zoo3.enjoy", "--algo", "nope"], "error: argument --algo: invalid choice: 'nope'"),
        (["-m", "rl_zoo3.record_video", "--algo", "dqn", "--bogus"],
         "error: unrecognized arguments: --bogus (see python -m rl_zoo3.record_video --help)"),
        (["-m", "sb3_atari_ext.cli", "train", "--algo", "dqn", "--eval-freq", "x"],
         "error: argument --eval-freq: invalid int value: 'x' (see sb3-atari train --help)"),
    ],
)  # fmt: skip
def test_rl_zoo_scripts_answer_a_mistake_in_one_line(tmp_path, args, line):
    result = run(args, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert "usage:" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip().splitlines()[-1]], result.stderr[-1500:]
    assert result.stderr.strip().startswith(line), result.stderr[-500:]
