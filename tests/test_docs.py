"""The Sphinx documentation builds with warnings as errors, and names nothing outside the repository."""

import re
import subprocess
import sys
from pathlib import Path

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


def test_the_benchmark_page_gives_the_committed_reports_tables(tmp_path):
    script = ROOT / "scripts" / "docs_benchmark_results.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # and the check fails when a report changes without the page
    copy = tmp_path / "repo"
    for path in ["scripts/docs_benchmark_results.py", "docs/benchmark.md", *ROOT.glob("bench/learning/**/report.md")]:
        path = Path(path).relative_to(ROOT) if Path(path).is_absolute() else Path(path)
        (copy / path).parent.mkdir(parents=True, exist_ok=True)
        (copy / path).write_text((ROOT / path).read_text())
    check = [sys.executable, str(copy / "scripts/docs_benchmark_results.py"), "--check"]
    assert subprocess.run(check, capture_output=True, timeout=60).returncode == 0
    report = copy / "bench/learning/report.md"
    report.write_text(report.read_text().replace("| rainbow |", "| rainbow (changed) |", 1))
    changed = subprocess.run(check, capture_output=True, text=True, timeout=60)
    assert changed.returncode == 1 and "differs from the committed reports" in changed.stderr


def test_user_docs_name_nothing_outside_the_repository():
    texts = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "sb3_atari_ext").rglob("*.py")]
    for path in texts:
        text = path.read_text()
        assert not re.search(r"\bseed ?00\d\b", text, re.IGNORECASE), path
        assert "DESIGN.md" not in text and "../shared" not in text, path


def documented_commands() -> list[tuple[str, list[str]]]:
    """Every ``sb3-atari ...`` and ``python -m rl_zoo3.<script> ...`` command in the README and the
    docs' bash blocks, as (where, argv): continuation lines joined, ``&&`` chains split."""
    import shlex

    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(), flags=re.DOTALL):
            for line in block.replace("\\\n", " ").splitlines():
                for part in re.split(r"&&|;", line.split("  #")[0]):
                    text = re.sub(r"\[[^\]]*\]", "", part.strip())  # "[--json]": an optional part, as in usage lines
                    words = shlex.split(text, comments=True)
                    zoo = words[:3] in (["python", "-m", "rl_zoo3.train"], ["python", "-m", "rl_zoo3.enjoy"])
                    if words[:1] == ["sb3-atari"] or zoo:
                        found.append((page.name, words))
    return found


def test_every_documented_sb3_atari_command_parses():
    from sb3_atari_ext.cli import build_parser

    commands = [(page, words) for page, words in documented_commands() if words[0] == "sb3-atari"]
    assert len(commands) >= 10
    for page, words in commands:
        if words[1] in ("train", "enjoy"):  # passed to RL Zoo's parser
            continue
        try:
            build_parser().parse_args(words[1:])
        except SystemExit as exc:
            raise AssertionError(f"{page}: {' '.join(words)} does not parse") from exc


@pytest.mark.slow
def test_every_option_of_a_documented_rl_zoo_command_exists():
    helps = {
        script: subprocess.run([sys.executable, "-m", f"rl_zoo3.{script}", "--help"], capture_output=True, text=True).stdout
        for script in ("train", "enjoy")
    }
    commands = [(page, words) for page, words in documented_commands() if words[0] == "python"]
    for page, words in documented_commands():  # sb3-atari train/enjoy pass their arguments to RL Zoo
        if words[0] == "sb3-atari" and words[1] in ("train", "enjoy"):
            commands.append((page, ["python", "-m", f"rl_zoo3.{words[1]}", *words[2:]]))
    assert len(commands) >= 10
    own = {"--resume"}  # sb3-atari train's own option (turned into RL Zoo's -i)
    for page, words in commands:
        script = words[2].split(".")[1]
        for option in (w.split("=")[0] for w in words[3:] if w.startswith("--") and w.split("=")[0] not in own):
            missing = f"{page}: {' '.join(words)}: rl_zoo3.{script} has no {option}"
            assert re.search(rf"{re.escape(option)}\b", helps[script]), missing


def walkthrough_files() -> dict[str, str]:
    """The files of docs/plugins.md's walk-through: every code block whose first line is a comment
    naming a file (``# my_plugin/plugin.py``), dedented as the page indents them."""
    import textwrap

    page = (ROOT / "docs" / "plugins.md").read_text()
    files = {}
    for _indent, body in re.findall(r"^( *)```(?:python|toml|yaml)\n(.*?)^\1```", page, flags=re.DOTALL | re.MULTILINE):
        body = textwrap.dedent(body)
        first = body.splitlines()[0]
        match = re.fullmatch(r"# ([\w./-]+\.(?:py|toml|yml))", first)
        if match:
            files[match.group(1)] = body
    return files


@pytest.mark.slow
def test_the_plugin_walkthrough_installs_trains_and_passes_the_kit(tmp_path):
    """A plugin built from the page's own code blocks: installed, listed, trained for a few hundred
    steps through RL Zoo, and checked by the test kit with the page's test file."""
    import json
    import os

    files = walkthrough_files()
    assert {
        "pyproject.toml",
        "my_plugin/__init__.py",
        "my_plugin/plugin.py",
        "my_plugin/algorithm.py",
        "my_plugin/my_dqn.yml",
        "tests/test_my_plugin.py",
    } <= set(files)
    project, site = tmp_path / "my-plugin", tmp_path / "site"
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    install = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "--target",
        str(site),
        str(project),
    ]
    done = subprocess.run(install, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    env = dict(os.environ, PYTHONPATH=str(site))
    listed = subprocess.run(
        [sys.executable, "-m", "sb3_atari_ext.cli", "plugins", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "my_dqn" in json.dumps([p for p in json.loads(listed.stdout) if p["name"] == "my_plugin"])
    train = [
        sys.executable,
        "-m",
        "rl_zoo3.train",
        "--algo",
        "my_dqn",
        "--env",
        "CartPole-v1",
        "-n",
        "700",
        "-f",
        str(tmp_path / "logs"),
        "--eval-freq",
        "-1",
    ]
    done = subprocess.run(train, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Default hyperparameters for environment" in done.stdout and "gradient_steps', 128" in done.stdout
    assert (tmp_path / "logs" / "my_dqn" / "CartPole-v1_1" / "CartPole-v1.zip").is_file()
    kit = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_my_plugin.py"]
    done = subprocess.run(kit, env=env, cwd=project, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and " passed" in done.stdout, done.stdout[-3000:]
