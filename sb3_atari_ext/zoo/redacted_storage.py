"""An Optuna ``RDBStorage`` whose pickled form keeps no password.

RL Zoo pickles the whole study into ``report_*.pkl`` after ``--optimize``; Optuna's storage
pickles its URL. This subclass masks the password in the pickled URL (see
:func:`sb3_atari_ext.zoo.optimize.redact`), so no file the project writes holds the secret. An
unpickled copy can be inspected but cannot reconnect without the password.
"""

from __future__ import annotations

from typing import Any

import optuna


class RedactedRDBStorage(optuna.storages.RDBStorage):
    """``RDBStorage`` that masks the password of its URL when pickled."""

    def __getstate__(self) -> dict[Any, Any]:
        from sb3_atari_ext.zoo.optimize import redact

        state = super().__getstate__()
        state["url"] = redact(state["url"])
        return state
