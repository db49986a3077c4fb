"""MsPacman plugin for sb3-atari-ext (from a MsPacman split-Q project)."""
