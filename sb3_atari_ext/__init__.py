"""sb3-atari-ext: new algorithms, networks, replay buffers and Atari wrappers for SB3 and RL Zoo.

Importing the package is cheap: the classes below load torch and SB3 only when first used.
"""

from __future__ import annotations

from sb3_atari_ext.version import __version__

_LAZY = {
    "DDQNPrio": "sb3_atari_ext.ddqn_prio",
    "PQN": "sb3_atari_ext.pqn",
    "Rainbow": "sb3_atari_ext.rainbow",
    "SplitQ": "sb3_atari_ext.split_q",
    "A3C": "sb3_atari_ext.a3c",
    "FrameReplayBuffer": "sb3_atari_ext.buffers",
    "PrioritizedReplayBuffer": "sb3_atari_ext.buffers",
    "SumTree": "sb3_atari_ext.buffers",
    "hookimpl": "sb3_atari_ext.hookspecs",
    "get_registry": "sb3_atari_ext.plugins",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> object:  # PEP 562 lazy attributes; no `typing` import at start-up
    if name in _LAZY:
        import importlib  # here, not at module level: the start-up hook imports this package

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sb3_atari_ext' has no attribute {name!r}")
