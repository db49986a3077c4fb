"""``sb3-atari dashboard``: a read-only Dash app over an RL Zoo ``logs/`` folder and Optuna studies."""

from sb3_atari_ext.dashboard.app import create_app

__all__ = ["create_app"]
