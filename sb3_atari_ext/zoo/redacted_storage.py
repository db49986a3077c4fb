"""An Optuna ``RDBStorage`` whose pickled form keeps no password.

RL Zoo pickles the whole study into ``report_*.pkl`` after ``--optimize``; Optuna's storage
pickles its URL. This subclass masks the password in the pickled URL (see
:func:`sb3_atari_ext.zoo.redact.redact`), so no file the project writes holds the secret. An
unpickled copy can be inspected but cannot reconnect without the password. ``str()`` of it is the
masked URL.
"""

from __future__ import annotations

from typing import Any

import optuna

from sb3_atari_ext.zoo.redact import redact


class RedactedRDBStorage(optuna.storages.RDBStorage):
    """``RDBStorage`` that masks the password of its URL when pickled."""

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state["url"] = redact(state["url"])
        return state

    def __str__(self) -> str:  # RL Zoo prints its storage in messages: never the password
        return redact(self.url)

    def endswith(self, suffix: Any) -> bool:
        """RL Zoo's Optuna loop takes ``--storage`` as a string and opens it as a journal when it
        ends with ``.log``: an opened database storage, handed over in its place, never does."""
        return False
