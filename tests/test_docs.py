"""The Sphinx documentation builds with warnings as errors, and names nothing outside the repository."""

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_docs_build_with_warnings_as_errors(tmp_path):
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(ROOT / "docs"), str(tmp_path)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-5000:]
    pages = {p.name for p in tmp_path.rglob("*.html")}
    assert {"index.html", "ddqn_prio.html", "plugins.html", "bridge.html", "provenance.html"} <= pages
    hooks = (tmp_path / "plugins.html").read_text()
    assert "register_algorithms" in hooks and "check_plugin" in hooks  # generated from the code


def test_readme_is_a_front_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    assert "python -m rl_zoo3.train --algo ddqn_prio" in readme.split("```")[1]  # the main job first


def test_user_docs_name_nothing_outside_the_repository():
    texts = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "sb3_atari_ext").rglob("*.py")]
    for path in texts:
        text = path.read_text()
        assert not re.search(r"\bseed ?00\d\b", text, re.IGNORECASE), path
        assert "DESIGN.md" not in text and "../shared" not in text, path
