"""Dash callbacks: every one reads files, none writes."""

from __future__ import annotations

import json
from urllib.parse import quote

import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, State, dash_table, dcc, html
from plotly.subplots import make_subplots

from sb3_atari_ext.analysis.plotting import group_colors, smooth
from sb3_atari_ext.apex.status import ACTOR_COLUMNS, actor_rows, learner_line
from sb3_atari_ext.dashboard.data import LogsData

METRICS = (("loss", "loss"), ("policy_loss", "policy loss"), ("value_loss", "value loss"), ("q_mean", "mean Q"),
           ("q_max", "max Q"), ("td_error", "mean |TD error|"), ("priority_mean", "mean priority"))  # fmt: skip


def _colors(runs: list) -> dict[str, str]:
    """One colour per run, by algorithm order (the report's group colours per algorithm)."""
    algos = group_colors(sorted({r.algo for r in runs}))
    return {r.name: algos[r.algo] for r in runs}


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
        runs = [data.run(rows[i]["run"]) for i in selected or [] if rows is not None and i < len(rows)]
        runs = [r for r in runs if r is not None and len(r.rewards)]
        colors = _colors(runs)
        fig = go.Figure()
        for run in runs:  # every episode (faint) and the smoothed curve over it
            dots = dict(size=4, color=colors[run.name])
            fig.add_trace(go.Scatter(x=run.timesteps, y=run.rewards, mode="markers", marker=dots, opacity=0.3,
                                     name=f"{run.name} episodes", showlegend=False))  # fmt: skip
            fig.add_trace(go.Scatter(x=run.timesteps, y=smooth(run.rewards), mode="lines",
                                     line=dict(color=colors[run.name]), name=run.name))  # fmt: skip
        fig.update_layout(
            xaxis_title="agent timesteps", yaxis_title="episode return (dots) and smoothed", margin=dict(t=30), height=380,
            legend=dict(orientation="h", y=-0.25),
        )  # fmt: skip
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

        runs = [data.run(rows[i]["run"]) for i in selected or [] if rows is not None and i < len(rows)]
        runs = [r for r in runs if r is not None]
        colors = _colors(runs)
        records = {r.name: r.metrics() for r in runs}
        present = [(k, label) for k, label in METRICS if any(k in rec for recs in records.values() for rec in recs)]
        media = []
        fig = make_subplots(rows=max(1, len(present)), cols=1, shared_xaxes=True,
                            subplot_titles=[label for _, label in present] or ["no metrics.yml yet"])  # fmt: skip
        for row, (key, _) in enumerate(present, start=1):  # one panel (own y-axis) per metric
            for run in runs:
                points = [(r["timesteps"], r[key]) for r in records[run.name] if key in r and "timesteps" in r]
                if points:
                    xs, ys = zip(*points, strict=True)
                    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=colors[run.name]), name=run.name,
                                             legendgroup=run.name, showlegend=row == 1), row=row, col=1)  # fmt: skip
        for run in runs:
            for rel in data.media(run):
                media.append(
                    html.Figure(
                        [html.Img(src=f"/files/{quote(rel)}", style={"maxWidth": "320px"}), html.Figcaption(rel)],
                        style={"display": "inline-block"},
                    )
                )
        fig.update_xaxes(title_text="agent timesteps", row=max(1, len(present)), col=1)
        fig.update_layout(margin=dict(t=30), height=max(300, 220 * len(present)), legend=dict(orientation="h", y=-0.1))
        return dcc.Graph(id="metrics", figure=fig), media or [
            html.P("No gameplay.gif or feature-map PNGs in the selected runs' folders.")
        ]

    @app.callback(
        Output("apex-box", "children"),
        Input("runs", "derived_virtual_selected_rows"),
        Input("runs", "derived_virtual_data"),
        Input("refresh", "n_intervals"),
    )
    def apex(selected, rows, _):
        runs = [data.run(rows[i]["run"]) for i in selected or [] if rows is not None and i < len(rows)]
        children = []
        for run in runs:
            status = data.apex_status(run) if run is not None else None
            if status is None:
                continue
            state = f"{run.name}: {status.get('state', '?')}, {learner_line(status)}"
            children += [
                html.P(state, className="apex-learner"),
                dash_table.DataTable(
                    columns=[{"name": title, "id": title} for title, _, _ in ACTOR_COLUMNS],
                    data=actor_rows(status),
                    style_cell={"fontFamily": "sans-serif", "fontSize": 13, "padding": "4px"},
                ),
            ]
        return [html.H3("Ape-X actors and learner"), *children] if children else None

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
        fig.update_xaxes(tick0=0, dtick=max(1, len(points) // 10), tickformat="d")  # whole trial numbers
        return dcc.Graph(id="study-history", figure=fig)
