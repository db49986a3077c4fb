"""Moved beside their algorithms (``ddqn_prio/search.py``, ``split_q/search.py``, ``a3c/search.py``,
``apex/search.py``, ``rainbow/search.py``); these names stay for one release for plugins that import them."""

import warnings

from sb3_atari_ext.a3c.search import convert_a3c_params, sample_a3c_params
from sb3_atari_ext.apex.search import convert_apex_ddqn_params, sample_apex_ddqn_params
from sb3_atari_ext.ddqn_prio.search import NET_ARCHS, convert_ddqn_prio_params, sample_ddqn_prio_params
from sb3_atari_ext.rainbow.search import convert_rainbow_params, sample_rainbow_params
from sb3_atari_ext.split_q.search import convert_split_q_params, sample_split_q_params

warnings.warn(
    "sb3_atari_ext.zoo.samplers moved beside the algorithms (e.g. sb3_atari_ext.ddqn_prio.search); "
    "the old module goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "NET_ARCHS",
    "convert_a3c_params",
    "convert_apex_ddqn_params",
    "convert_ddqn_prio_params",
    "convert_rainbow_params",
    "convert_split_q_params",
    "sample_a3c_params",
    "sample_apex_ddqn_params",
    "sample_ddqn_prio_params",
    "sample_rainbow_params",
    "sample_split_q_params",
]
