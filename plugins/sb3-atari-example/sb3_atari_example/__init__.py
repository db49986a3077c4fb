"""Example third-party plugin for sb3-atari-ext."""
