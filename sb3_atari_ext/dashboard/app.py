"""The Dash app: read-only, files served only from inside ``--logs``."""

from __future__ import annotations

from pathlib import Path

from sb3_atari_ext.dashboard.data import LogsData


def create_app(logs: str | Path, storage: str | None = None, refresh_s: float = 5.0):
    """A Dash app over ``logs`` (and an optional Optuna storage URL)."""
    from dash import Dash
    from flask import abort, send_file

    from sb3_atari_ext.dashboard import callbacks, layout

    data = LogsData(logs, storage)
    app = Dash(__name__, title="sb3-atari dashboard", update_title=None)
    app.layout = lambda: layout.layout(int(refresh_s * 1000), data.table(), str(data.logs))  # fresh per page load
    data.runs()  # read the folder once now: the first page is served from the cache
    data.studies()  # and import Optuna before the first browser asks
    import plotly.graph_objects as go

    go.Figure(go.Scatter(x=[0], y=[0])).to_plotly_json()  # plotly builds its validators lazily (~1 s)
    callbacks.register(app, data)

    @app.server.route("/files/<path:relative>")
    def files(relative: str):
        target = (data.logs / relative).resolve()
        if not target.is_relative_to(data.logs) or not target.is_file():
            abort(404 if target.is_relative_to(data.logs) else 403)
        if target.suffix.lower() not in {".png", ".gif", ".jpg", ".jpeg", ".mp4", ".yml", ".csv"}:
            abort(403)
        return send_file(target)

    @app.server.before_request
    def read_only():
        from flask import request

        # Dash's own callback endpoint is a POST that reads only; nothing else may change state
        if request.method not in {"GET", "HEAD"} and not request.path.startswith("/_dash-update-component"):
            abort(405)

    app.data = data
    return app


def serve(logs: str, port: int = 5000, host: str = "127.0.0.1", storage: str | None = None) -> None:
    """Run the dashboard (binds 127.0.0.1 by default)."""
    if not Path(logs).is_dir():
        raise FileNotFoundError(f"--logs {logs} is not a folder")
    app = create_app(logs, storage)
    print(f"sb3-atari dashboard on http://{host}:{port}/ (logs: {Path(logs).resolve()})")
    app.run(host=host, port=port, debug=False)
