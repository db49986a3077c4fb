"""stable-retro games for sb3-atari-ext / RL Zoo (see ``plugin.py`` for what is registered)."""

from sb3_atari_retro.envs import RETRO_NAMESPACE, make_retro, retro_games
from sb3_atari_retro.wrappers import Discretizer, RetroPreprocessing

__all__ = ["RETRO_NAMESPACE", "Discretizer", "RetroPreprocessing", "make_retro", "retro_games"]
