"""Dash callbacks: every one reads files, none writes."""

from __future__ import annotations

import json
from urllib.parse import quote

import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from sb3_atari_ext.dashboard.data import LogsData


def _smooth(values: np.ndarray, window: int = 10) -> np.ndarray:
    k = max(1, min(window, len(values)))
    return np.convolve(values, np.ones(k) / k, mode="valid")


def register(app, data: LogsData) -> None:
    @app.callback(Output("runs", "data"), Input("refresh", "n_intervals"), prevent_initial_call=True)
    def refresh_runs(_):
        return data.table()

    @app.callback(
        Output("curves-box", "children"),
        Input("runs", "derived_virtual_selected_rows"),
        Input("runs", "derived_virtual_data"),
        Input("refresh", "n_intervals"),
    )
    def curves(selected, rows, _):
        if not selected:
            return html.P("Select runs in the table.")
        fig = go.Figure()
        for i in selected or []:
            if rows is None or i >= len(rows):
                continue
            run = data.run(rows[i]["run"])
            if run is None or len(run.rewards) == 0:
                continue
            k = min(10, len(run.rewards))
            fig.add_trace(go.Scatter(x=run.timesteps[k - 1 :], y=_smooth(run.rewards, k), mode="lines", name=run.name))
        fig.update_layout(
            xaxis_title="Monitor steps", yaxis_title="episode reward (10-episode mean)", margin=dict(t=30), height=380
        )
        return dcc.Graph(id="curves", figure=fig)

    @app.callback(
        Output("metrics-box", "children"),
        Output("media", "children"),
        Input("runs", "derived_virtual_selected_rows"),
        Input("runs", "derived_virtual_data"),
    )
    def metrics(selected, rows):
        if not selected:
            return None, None
        fig = go.Figure()
        media = []
        for i in selected or []:
            if rows is None or i >= len(rows):
                continue
            run = data.run(rows[i]["run"])
            if run is None:
                continue
            records = run.metrics()
            for key in ("loss", "q_mean", "q_max", "td_error", "priority_mean", "value_loss", "policy_loss"):
                points = [(r["timesteps"], r[key]) for r in records if key in r]
                if points:
                    xs, ys = zip(*points, strict=True)
                    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=f"{run.name} {key}"))
            for rel in data.media(run):
                media.append(
                    html.Figure(
                        [html.Img(src=f"/files/{quote(rel)}", style={"maxWidth": "320px"}), html.Figcaption(rel)],
                        style={"display": "inline-block"},
                    )
                )
        fig.update_layout(xaxis_title="timesteps", margin=dict(t=30), height=380)
        return dcc.Graph(id="metrics", figure=fig), media or [
            html.P("No gameplay.gif or feature-map PNGs in the selected runs' folders.")
        ]

    @app.callback(Output("studies", "data"), Input("refresh", "n_intervals"))
    def studies(_):
        rows = []
        for s in data.studies():
            row = dict(s)  # a masked URL and an opaque storage id: never the URL itself
            row["best_params"] = json.dumps(s.get("best_params") or {})
            rows.append(row)
        return rows

    @app.callback(Output("study-box", "children"), Input("studies", "selected_rows"), State("studies", "data"))
    def history(selected, rows):
        if not (selected and rows and rows[selected[0]].get("study")):
            return html.P("Select a study.")
        fig = go.Figure()
        row = rows[selected[0]]
        try:
            points = data.study_history(str(row.get("storage_id")), str(row["study"]))
        except KeyError:  # an id the server never handed out: nothing is opened
            return html.P("Unknown storage.")
        if points:
            xs, ys = zip(*points, strict=True)
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name="trial value"))
            fig.add_trace(go.Scatter(x=xs, y=np.maximum.accumulate(ys), mode="lines", name="best so far"))
        fig.update_layout(title=f"{row['study']}: optimization history")
        fig.update_layout(xaxis_title="trial", yaxis_title="objective", margin=dict(t=40), height=360)
        return dcc.Graph(id="study-history", figure=fig)
