"""Command-line mistakes as one ``error:`` line, for our parsers and RL Zoo's.

argparse answers a mistake with its whole usage block, then ``<prog>: error: ...``: with RL Zoo's
forty options that is twenty lines before the one that matters. :class:`OneLineParser` prints only
``error: <what> (see <command> --help)`` and exits 2, as argparse does. RL Zoo builds its parser
inside ``train()`` / ``enjoy()`` / ``record_video()`` from the ``argparse`` name of its own module:
:func:`one_line_errors_in` points that one name at :class:`OneLineArguments` (argparse with the
one-line parser), so nothing else in the process changes.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType
from typing import Any, NoReturn


class OneLineParser(argparse.ArgumentParser):
    """argparse whose mistakes are one ``error:`` line naming the command's ``--help``.

    :param help_command: the command the line points at (default: the parser's ``prog``)
    """

    help_command: str | None = None

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see {self.help_command or self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


class OneLineArguments(ModuleType):
    """The ``argparse`` module as one program sees it: ``ArgumentParser`` is a :class:`OneLineParser`
    that points at ``help_command``; every other name is argparse's own."""

    def __init__(self, help_command: str) -> None:
        super().__init__("argparse")
        self.ArgumentParser = type("ArgumentParser", (OneLineParser,), {"help_command": help_command})

    def __getattr__(self, name: str) -> Any:
        return getattr(argparse, name)


def one_line_errors_in(module: ModuleType | None, help_command: str) -> bool:
    """Make the parsers ``module`` builds from its global ``argparse`` print one-line errors.
    Returns whether it did (the module imports argparse under that name)."""
    if module is None:
        return False
    current = module.__dict__.get("argparse")
    if isinstance(current, OneLineArguments):
        return True
    if current is not argparse:
        return False
    module.argparse = OneLineArguments(help_command)
    return True
