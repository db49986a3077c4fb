"""Import hook that lets RL Zoo see our plugins.

The wheel installs ``sb3_atari_ext_autoload.pth``, whose one line is ``import
sb3_atari_ext.zoo.autoload``: importing this module puts a finder on ``sys.meta_path``. RL Zoo
builds ``ALGOS`` (and ``HYPERPARAMS_SAMPLER``) at import time and ``--algo`` choices from it when
its parser is built, with no plugin mechanism; when ``rl_zoo3.utils``, ``rl_zoo3.hyperparams_opt``
or ``rl_zoo3.exp_manager`` finish executing, the finder calls
:func:`sb3_atari_ext.zoo.install.install_into`. It runs at every interpreter start, so it imports
nothing beyond the standard modules already loaded, never raises, and is switched off by
``SB3_ATARI_EXT_AUTOLOAD=0``. :func:`apply` does the same explicitly (``sb3-atari train``).
"""

from __future__ import annotations

import os
import sys

ENV_AUTOLOAD = "SB3_ATARI_EXT_AUTOLOAD"
WATCHED = frozenset({"rl_zoo3.utils", "rl_zoo3.hyperparams_opt", "rl_zoo3.exp_manager"})


class _PatchingLoader:
    """Wraps the real loader; runs the bridge's patch after the module body has executed."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        from sb3_atari_ext.zoo.install import install_into  # only now: rl_zoo3 has loaded torch/SB3

        install_into(module)

    def __getattr__(self, name):  # get_code, get_source, is_package, ...
        return getattr(self._loader, name)


class ZooFinder:
    """``sys.meta_path`` finder that wraps the loaders of the watched ``rl_zoo3`` modules."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in WATCHED:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


def enabled() -> bool:
    """False when ``SB3_ATARI_EXT_AUTOLOAD`` is ``0``/``false``/``no``/``off``."""
    return os.environ.get(ENV_AUTOLOAD, "1").strip().lower() not in {"0", "false", "no", "off"}


def install(force: bool = False) -> bool:
    """Install the finder once (idempotent). Returns whether it is installed.

    :param force: install even when ``SB3_ATARI_EXT_AUTOLOAD=0`` (used by ``sb3-atari train``)
    """
    if not (force or enabled()):
        return False
    if not any(isinstance(f, ZooFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, ZooFinder())
    return True


def apply() -> None:
    """Plugins into RL Zoo now, whatever ``SB3_ATARI_EXT_AUTOLOAD`` says (what ``sb3-atari train``,
    ``enjoy``, ``evaluate`` and ``benchmark`` do; no ``.pth`` hook needed)."""
    install(force=True)
    from sb3_atari_ext.zoo.install import install_all

    install_all()


try:  # the .pth line imports this module: never break the interpreter's start
    install()
except Exception as exc:  # noqa: BLE001
    sys.stderr.write(f"sb3_atari_ext: RL Zoo autoload disabled ({exc!r})\n")
