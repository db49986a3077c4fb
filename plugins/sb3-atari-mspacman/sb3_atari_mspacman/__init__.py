"""MsPacman plugin for sb3-atari-ext (seed 004)."""
