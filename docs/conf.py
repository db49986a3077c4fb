"""Sphinx configuration: ``python -m sphinx -W -b html docs docs/_build/html`` (the test suite runs it)."""

from sb3_atari_ext.version import __version__

project = "sb3-atari-ext"
author = "sb3-atari-ext contributors"
copyright = "2026, sb3-atari-ext contributors"
release = version = __version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3
exclude_patterns = ["_build"]
html_theme = "sphinx_rtd_theme"
html_title = f"sb3-atari-ext {version}"

# Our docstrings use :param: fields (SB3's convention). Inherited SB3 docstrings are not repeated.
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_inherit_docstrings = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = False
