"""Moved to :mod:`sb3_atari_ext.common.storage` (kept for one release for plugins that import it)."""

import warnings

from sb3_atari_ext.common.storage import RedactedRDBStorage

warnings.warn(
    "sb3_atari_ext.zoo.redacted_storage moved to sb3_atari_ext.common.storage; the old name goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["RedactedRDBStorage"]
