"""Moved to :mod:`sb3_atari_ext.common.redact` (kept for one release for plugins that import it)."""

import warnings

from sb3_atari_ext.common.redact import redact, redact_arg, redact_text

warnings.warn(
    "sb3_atari_ext.zoo.redact moved to sb3_atari_ext.common.redact; the old name goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["redact", "redact_arg", "redact_text"]
