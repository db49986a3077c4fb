"""``sb3-atari``'s own parser and path mistakes: one ``error:`` line, exit status 2 (in-process)."""

import pytest

from sb3_atari_ext.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "--gif-frames", "abc"], "error: argument --gif-frames: invalid int value: 'abc' (see sb3-atari report"),
        (["plugins", "--kind", "x"], "error: unrecognized arguments: --kind x (see sb3-atari plugins --help)"),
        (["nosuchcmd"], "error: argument COMMAND: invalid choice: 'nosuchcmd'"),
        (["evaluate"], "error: the following arguments are required: --algo, --env (see sb3-atari evaluate --help)"),
        ([], "error: the following arguments are required: COMMAND"),
    ],
)
def test_a_parser_mistake_is_one_error_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), captured.err  # no usage block
    assert captured.out == ""


def test_an_output_path_that_is_a_file_is_one_error_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("a file, not a folder")
    code = main(["benchmark", "--algos", "dqn", "--envs", "CartPole-v1", "--out", "taken", "--no-progress"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == ["error: taken: file exists"]


@pytest.mark.parametrize(
    ("host", "port", "reason"),
    [("999.1.1.1", 8791, "Name or service not known"), ("10.255.255.1", 8791, "Cannot assign requested address")],
)
def test_a_dashboard_address_it_cannot_listen_on_is_one_line(tmp_path, capsys, host, port, reason):
    code = main(["dashboard", "--logs", str(tmp_path), "--host", host, "--port", str(port)])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: cannot listen on {host}:{port}: {reason}"]


def test_a_dashboard_port_in_use_is_one_line(tmp_path, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["dashboard", "--logs", str(tmp_path), "--port", str(port)])
    assert code == 2
    expected = f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert capsys.readouterr().err.strip().splitlines() == [expected]
