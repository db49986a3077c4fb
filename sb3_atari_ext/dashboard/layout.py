"""Page layout: runs table, curves, training metrics, media, Optuna studies."""

from __future__ import annotations

from dash import dash_table, dcc, html  # noqa: F401 - dcc.Interval

COLUMNS = [
    ("run", "run"),
    ("group", "group"),
    ("env", "env"),
    ("timesteps", "agent timesteps"),
    ("episodes", "episodes"),
    ("best_episode", "best episode"),
    ("mean_last_100", "mean of last 100 episodes"),
    ("status", "status"),
]


def layout(refresh_ms: int, runs: list[dict], logs: str, selected: list[int] | None = None) -> html.Div:
    """The page; ``runs`` fill the table in the first response (no callback round trip)."""
    return html.Div(
        [
            html.H2("sb3-atari dashboard", className="title"),
            html.Div(f"logs: {logs}", id="logs-path", className="subtitle"),
            dcc.Interval(id="refresh", interval=refresh_ms),
            html.H3("Runs"),
            dash_table.DataTable(
                id="runs",
                columns=[{"name": label, "id": key} for key, label in COLUMNS],
                data=runs,
                filter_action="native",
                sort_action="native",
                sort_mode="multi",
                row_selectable="multi",
                selected_rows=list(selected or []),
                page_size=25,
                style_table={"overflowX": "auto"},
                style_cell={"fontFamily": "sans-serif", "fontSize": 13, "padding": "4px"},
            ),
            # graphs are created by the callbacks once runs are selected: plotly.js (a few MB of
            # JavaScript) then loads after the table, which keeps the first page fast
            html.H3("Learning curves of the selected runs"),
            html.Div(html.P("Select runs in the table."), id="curves-box"),
            html.H3("Training metrics (metrics.yml)"),
            html.Div(id="metrics-box"),
            html.Div(id="apex-box"),  # Ape-X runs among the selected: actors and learner (apex_status.json)
            html.H3("Gameplay and feature maps"),
            html.Div(id="media"),
            html.H3("Optuna studies"),
            dash_table.DataTable(
                id="studies",
                columns=[{"name": n, "id": n} for n in ("storage", "study", "trials", "best_value", "best_params")],
                data=[],
                row_selectable="single",
                selected_rows=[],
                style_cell={"fontFamily": "sans-serif", "fontSize": 13, "padding": "4px", "whiteSpace": "normal"},
            ),
            html.Div(html.P("Select a study."), id="study-box"),
        ],
        className="page",
    )
