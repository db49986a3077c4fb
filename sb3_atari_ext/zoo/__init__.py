"""The RL Zoo bridge: makes every plugin's components visible to ``rl_zoo3`` with no glue code.

Modules, each with one job (arrows are imports; there are no cycles)::

    autoload ──> install ──> manager ──> env_backends, yaml_merge, optimize, errors, names
                        └──> names, optimize

- ``autoload``: the import hook (run by a one-line ``.pth`` file at interpreter start-up) and
  :func:`~sb3_atari_ext.zoo.autoload.apply`;
- ``install``: the table of changes made to RL Zoo's modules, all or nothing per module;
- ``manager``: :class:`~sb3_atari_ext.zoo.manager.PluginExperimentManager`, the one subclass of
  RL Zoo's ``ExperimentManager``;
- ``names``: registered short names and the name-resolving functions RL Zoo uses;
- ``env_backends``: registered vectorized-env backends (``vec_env: envpool``);
- ``yaml_merge``: the default yaml of an algorithm (a plugin's, merged with RL Zoo's);
- ``optimize``: storages with heartbeats, metrics per trial, sampler context for ``--optimize``;
- ``errors``: user mistakes as one ``error:`` line; ``samplers``: our Optuna samplers.

Importing this package imports nothing heavy.
"""
