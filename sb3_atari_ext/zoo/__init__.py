"""The RL Zoo bridge: makes every plugin's components visible to ``rl_zoo3`` with no glue code.

``autoload`` (run from a one-line ``.pth`` file at interpreter start-up) installs an import hook;
``bridge`` holds the patches applied when ``rl_zoo3`` modules finish importing; ``samplers``
holds our Optuna samplers. Importing this package imports nothing heavy.
"""
