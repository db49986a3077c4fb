"""The plugin's components pass sb3-atari-ext's contract checks (train, save, load, predict, ...)."""

import pytest

from sb3_atari_ext.testing import check_component, plugin_components


@pytest.mark.parametrize(("kind", "name"), plugin_components("minatar"))
def test_component(kind, name):
    check_component("minatar", kind, name)
