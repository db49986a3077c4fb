"""Moved to :mod:`sb3_atari_ext.common.metrics` (kept for one release: yaml files may name
``sb3_atari_ext.analysis.metrics.MetricsCallback``)."""

import warnings

from sb3_atari_ext.common.metrics import TRAIN_KEYS, MetricsCallback

warnings.warn(
    "sb3_atari_ext.analysis.metrics moved to sb3_atari_ext.common.metrics; the old name goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["TRAIN_KEYS", "MetricsCallback"]
