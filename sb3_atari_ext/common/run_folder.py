"""What a run folder (``logs/<algo>/<env>_<n>/``) says about how its run ended, beyond RL Zoo's files."""

from __future__ import annotations

import contextlib
from pathlib import Path

#: written into a run folder when the run ended with an error after it had started training
FAILED_MARKER = "FAILED.txt"


def mark_failed(folder: Path, message: str) -> None:
    """Leave ``FAILED.txt`` (the error line) in a run folder that trained for a while and then
    failed, so that ``report`` and the dashboard list it as failed, not as stopped."""
    with contextlib.suppress(OSError):
        (folder / FAILED_MARKER).write_text(message + "\n")
