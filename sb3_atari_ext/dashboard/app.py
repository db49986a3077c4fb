"""The Dash app: read-only, files served only from inside ``--logs``."""

from __future__ import annotations

import socket
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import plotly.graph_objects as go
from dash import Dash
from dash.exceptions import DependencyException
from flask import abort, request, send_file
from werkzeug.exceptions import HTTPException

from sb3_atari_ext.common.validation import env_flag, first_line
from sb3_atari_ext.dashboard.data import LogsData

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
#: the file kinds ``/files/`` serves: pictures the page shows; never a yaml, a log or a model, which
#: can hold a command line with a storage URL
SERVED_SUFFIXES = frozenset({".png", ".gif", ".jpg", ".jpeg", ".mp4"})
#: the largest request body accepted (Dash's callback posts are a few KB)
MAX_REQUEST_BYTES = 1 << 20


def create_app(
    logs: str | Path, storage: str | None = None, refresh_s: float = 5.0, allowed_hosts: Sequence[str] = ()
):
    """A Dash app over ``logs`` (and an optional Optuna storage URL).

    :param allowed_hosts: ``Host`` header names accepted besides localhost (the bound address,
        names listed with ``--allow-host``); any other ``Host`` gets 400 (DNS rebinding)
    """

    from sb3_atari_ext.dashboard import callbacks, layout

    data = LogsData(logs, storage)
    app = Dash(__name__, title="sb3-atari dashboard", update_title=None)
    def page() -> Any:  # fresh per page load: the newest run's group is selected
        rows = data.table()
        return layout.layout(int(refresh_s * 1000), rows, str(data.logs), selected=data.newest_group(rows))

    app.layout = page
    data.runs()  # read the folder once now: the first page is served from the cache
    data.studies()  # and import Optuna before the first browser asks

    go.Figure(go.Scatter(x=[0], y=[0])).to_plotly_json()  # plotly builds its validators lazily (~1 s)
    callbacks.register(app, data)

    @app.server.route("/files/<path:relative>")
    def files(relative: str):
        try:
            target = (data.logs / relative).resolve()
            found = target.is_relative_to(data.logs) and target.is_file()
        except (ValueError, OSError):  # embedded null byte, name too long, ...: no such file
            abort(404)
        if not found:
            abort(404 if target.is_relative_to(data.logs) else 403)
        if target.suffix.lower() not in SERVED_SUFFIXES:
            abort(403)
        return send_file(target)

    hosts = {h.lower().strip("[]") for h in (*LOCAL_HOSTS, *allowed_hosts)}
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    @app.server.before_request
    def read_only():
        if host_name(request.host) not in hosts:
            abort(400, description="Host not allowed (start the dashboard with --allow-host NAME to accept it)")
        if request.method in {"GET", "HEAD"}:
            return
        # Dash's own callback endpoint is a POST that reads only; nothing else may change state
        if not request.path.startswith("/_dash-update-component"):
            abort(405)
        if (request.content_length or 0) > MAX_REQUEST_BYTES:
            abort(413)
        if not same_origin(request.headers.get("Origin") or request.headers.get("Referer"), request.host):
            abort(403, description="cross-origin request refused")

    @app.server.errorhandler(Exception)
    def one_line(exc: Exception) -> Any:
        """A request Dash or Flask cannot answer (a library that is not one of Dash's, a callback
        the page does not have, a body that is not a callback) gets a short 4xx and one log line,
        not a traceback; ``SB3_ATARI_EXT_DEBUG=1`` keeps Flask's traceback."""
        if isinstance(exc, HTTPException):
            return exc
        if env_flag("SB3_ATARI_EXT_DEBUG"):
            raise exc
        status = 500  # our own code failed: a server error
        if isinstance(exc, DependencyException):
            status = 404  # /_dash-component-suites/<not a library>/...
        elif request.path.startswith("/_dash-update-component") and not _raised_by_us(exc):
            status = 400  # Dash could not read the body as a callback of this page
        print(f"dashboard: {request.method} {request.path[:200]} -> {status}: {type(exc).__name__}: {first_line(exc)}",
              file=sys.stderr)  # fmt: skip
        return f"{status}: {'not found' if status == 404 else 'bad request' if status == 400 else 'server error'}\n", status

    app.data = data
    return app


def _raised_by_us(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) came out of this package's code, not Dash's or Flask's."""
    package = str(Path(__file__).resolve().parents[1])
    while exc is not None:
        if any(frame.filename.startswith(package) for frame in traceback.extract_tb(exc.__traceback__)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def host_name(host_header: str) -> str:
    """The name part of a ``Host`` header (``[::1]:5000`` -> ``::1``, ``localhost:80`` -> ``localhost``)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def same_origin(origin: str | None, host_header: str) -> bool:
    """Whether a POST's ``Origin`` (or ``Referer``) names the page's own ``Host``: browsers send one
    with every POST, so a page on another site cannot read studies through a callback."""
    if not origin:
        return False

    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(netloc) and netloc.lower() == host_header.strip().lower()


def serve(
    logs: str, port: int = 5000, host: str = "127.0.0.1", storage: str | None = None, allowed_hosts: Sequence[str] = ()
) -> None:
    """Run the dashboard (binds 127.0.0.1 by default)."""
    if not Path(logs).is_dir():
        raise FileNotFoundError(f"--logs {logs} is not a folder")
    if not 1 <= port <= 65535:
        raise ValueError(f"--port {port} is not a TCP port (1-65535)")
    check_listenable(host, port)
    if host not in LOCAL_HOSTS:
        print(
            f"warning: the dashboard has no authentication: anyone who can reach {host}:{port} can read {logs}",
            file=sys.stderr,
        )
    app = create_app(logs, storage, allowed_hosts=[*allowed_hosts, host])
    print(f"sb3-atari dashboard on http://{host}:{port}/ (logs: {Path(logs).resolve()})")
    app.run(host=host, port=port, debug=False)


def check_listenable(host: str, port: int) -> None:
    """Raise ``ValueError`` in one line when ``host:port`` cannot be listened on (an unknown host
    name, an address of another machine, a port in use): Flask's server would print the bare
    reason and exit 1."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself does
            probe.bind(address)
    except OSError as exc:
        raise ValueError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
