"""The Dash dashboard in a real headless Chromium (Debian's, driven by Playwright)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from PIL import Image

from tests.conftest import ZOO_OPTIMIZE, copy_cartpole_runs, zoo_train

pytestmark = pytest.mark.slow  # real subprocesses, servers or browsers

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dashboard:
    def __init__(self, logs, cwd, *extra):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "sb3_atari_ext.cli", "dashboard", "--logs", str(logs), "--port", str(self.port), *extra]
        self.proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url, timeout=2)
                return
            except (urllib.error.URLError, ConnectionError):
                assert self.proc.poll() is None, self.proc.stdout.read()
                time.sleep(0.3)
        raise AssertionError("the dashboard did not start")

    def get(self, path, headers=None):
        try:
            request = urllib.request.Request(self.url + path, headers=headers or {})
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, b""

    def callback(self, output, inputs, state=(), headers=None, body=None):
        """POST one Dash callback as a browser (or a hostile client) would; returns (status, body)."""
        ids = [dict(id=i, property=p, value=v) for i, p, v in inputs]
        data, body = body, {
            "output": output,
            "outputs": {"id": output.split(".")[0], "property": output.split(".")[1]},
            "inputs": ids,
            "state": [dict(id=i, property=p, value=v) for i, p, v in state],
            "changedPropIds": [f"{i}.{p}" for i, p, _ in inputs],
        }
        request = urllib.request.Request(
            self.url + "/_dash-update-component",
            data=json.dumps(body).encode() if data is None else data,
            headers={"Content-Type": "application/json", "Origin": self.url} if headers is None else headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def logs(tmp_path_factory, cartpole_runs):
    """A real small logs/ folder: two ddqn_prio runs and one a3c run on CartPole, plus a GIF."""
    folder = copy_cartpole_runs(cartpole_runs, tmp_path_factory.mktemp("dash"))
    zoo_train(folder, "a3c", "CartPole-v1", 1000)
    search = ["--n-trials", "2", *ZOO_OPTIMIZE, "-params", "learning_starts:100"]
    zoo_train(folder, "ddqn_prio", "CartPole-v1", 300, *search, evaluate=True)
    Image.new("RGB", (64, 48), (200, 30, 30)).save(folder / "logs" / "ddqn_prio" / "CartPole-v1_1" / "gameplay.gif")
    return folder / "logs"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_runs_table_curves_metrics_and_screenshots(logs, browser, tmp_path):
    dashboard = Dashboard(logs, tmp_path)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.goto(dashboard.url)
        page.wait_for_selector("text=ddqn_prio/CartPole-v1_2", timeout=30_000)
        table = page.inner_text("#runs")
        for name in ("ddqn_prio/CartPole-v1_1", "ddqn_prio/CartPole-v1_2", "a3c/CartPole-v1_1"):
            assert name in table
        assert "finished" in table
        # the page's own theme (served from the package, no CDN) and the newest run group selected on load
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(247, 248, 250)"
        page.wait_for_function("document.querySelectorAll('#curves .scatterlayer .trace').length >= 2", timeout=30_000)
        page.screenshot(path=str(tmp_path / "table.png"), full_page=True)

        # select the two ddqn_prio runs only: their episodes (dots) and smoothed curves are drawn
        boxes = page.locator("#runs input[type=checkbox]")
        rows = page.locator("#runs tr")
        for i in range(rows.count()):
            box = rows.nth(i).locator("input[type=checkbox]")
            if box.count():
                box.set_checked("ddqn_prio/CartPole" in rows.nth(i).inner_text())
        assert boxes.count() >= 3  # (RL Zoo also makes a run folder for the --optimize run)
        page.wait_for_function("document.querySelectorAll('#curves .scatterlayer .trace').length == 4", timeout=30_000)
        assert "agent timesteps" in page.locator("#curves .xtitle").text_content()
        page.wait_for_function("document.querySelectorAll('#metrics .scatterlayer .trace').length >= 4", timeout=30_000)
        legend = page.locator("#curves .legend").text_content()
        assert "ddqn_prio/CartPole-v1_1" in legend and "ddqn_prio/CartPole-v1_2" in legend
        page.wait_for_selector("#media img", timeout=30_000)
        assert page.locator("#media img").first.evaluate("img => img.naturalWidth") == 64  # the GIF, served from --logs
        page.screenshot(path=str(tmp_path / "curves.png"), full_page=True)

        # the Optuna study of logs/ddqn_prio/optuna.log, and its history
        page.wait_for_selector("#studies >> text=ddqn_prio-CartPole-v1", timeout=30_000)
        page.locator("#studies input[type=radio]").first.check()
        page.wait_for_function("document.querySelectorAll('#study-history .scatterlayer .trace').length == 2", timeout=30_000)
        assert "optimization history" in page.locator("#study-history .gtitle").text_content()

        # the filter row narrows the table (Dash's native filtering)
        page.locator('#runs input[placeholder="filter data..."]').nth(1).fill("a3c")  # the group column
        page.keyboard.press("Enter")
        page.wait_for_function(
            "!document.querySelector('#runs').innerText.includes('ddqn_prio/CartPole-v1_2')", timeout=30_000
        )
        for shot in ("table.png", "curves.png"):
            with Image.open(tmp_path / shot) as image:
                assert image.format == "PNG" and image.size[0] == 1400
        page.close()
    finally:
        dashboard.stop()


def test_files_outside_logs_are_refused_and_the_app_is_read_only(logs, tmp_path):
    (logs.parent / "secret.png").write_bytes(b"not for the dashboard")
    dashboard = Dashboard(logs, tmp_path)
    try:
        status, body = dashboard.get("/files/ddqn_prio/CartPole-v1_1/gameplay.gif")
        assert status == 200 and body[:3] == b"GIF"
        assert dashboard.get("/files/..%2Fsecret.png")[0] in (403, 404)
        assert dashboard.get("/files/%2E%2E/secret.png")[0] in (403, 404)
        assert dashboard.get("/files/ddqn_prio/CartPole-v1_1/CartPole-v1.zip")[0] == 403  # only pictures
        for kind in ("CartPole-v1/args.yml", "CartPole-v1/config.yml", "0.monitor.csv", "metrics.yml"):
            assert dashboard.get(f"/files/ddqn_prio/CartPole-v1_1/{kind}")[0] == 403, kind  # may hold a URL
        request = urllib.request.Request(dashboard.url + "/files/x.png", data=b"x", method="PUT")
        with pytest.raises(urllib.error.HTTPError) as excinfo:
            urllib.request.urlopen(request, timeout=10)
        assert excinfo.value.code == 405
    finally:
        dashboard.stop()


def test_client_cannot_name_a_storage_and_never_sees_a_url(logs, tmp_path):
    from tests.zoo.test_optimize import POSTGRES

    password = POSTGRES.split("://", 1)[1].split("@")[0].split(":", 1)[1]
    dashboard = Dashboard(logs, tmp_path, "--storage", POSTGRES)
    try:
        status, body = dashboard.callback("studies.data", [("refresh", "n_intervals", 1)])
        assert status == 200 and b"storage_id" in body
        assert password.encode() not in body and b"_url" not in body
        rows = json.loads(body)["response"]["studies"]["data"]
        assert rows and all(row["storage"].count("***") <= 1 for row in rows)
        # a hostile client asks for the history of a storage it chose: nothing is opened or created
        evil = tmp_path / "evil" / "study.db"
        row = {"study": "x", "storage_id": "not-an-id", "_url": f"sqlite:///{evil}", "storage": f"sqlite:///{evil}"}
        status, body = dashboard.callback(
            "study-box.children", [("studies", "selected_rows", [0])], [("studies", "data", [row])]
        )
        assert status == 200 and b"Unknown storage" in body
        assert not evil.exists() and not evil.parent.exists()
    finally:
        dashboard.stop()


def test_a_storage_password_reaches_no_file_and_no_response(tmp_path):
    """The whole path of a password: a search and a ``--trial-id`` run on a password URL, then the
    dashboard over their logs with that storage. No file the runs wrote, and no page, callback or
    file the dashboard answers with, holds the password in any form (it is found nowhere else)."""
    from urllib.parse import quote

    from tests.zoo.test_optimize import POSTGRES

    password = POSTGRES.split("://", 1)[1].split("@")[0].split(":", 1)[1].encode()
    name = f"scan-{os.getpid()}-{time.time_ns()}"
    storage = ["--storage", POSTGRES, "--study-name", name]
    zoo_train(tmp_path, "ddqn_prio", "CartPole-v1", 200, *ZOO_OPTIMIZE, "--n-trials", "1", *storage,
              "-params", "learning_starts:50")  # fmt: skip
    zoo_train(tmp_path, "ddqn_prio", "CartPole-v1", 200, *storage, "--trial-id", "0", "-params", "learning_starts:50")
    logs = tmp_path / "logs"
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {"args.yml", "command.txt"} <= {p.name for p in files}
    assert not [p for p in files if password in p.read_bytes()]
    dashboard = Dashboard(logs, tmp_path, "--storage", POSTGRES)
    try:
        bodies = {"/": dashboard.get("/")[1], "layout": dashboard.get("/_dash-layout")[1]}
        status, bodies["studies"] = dashboard.callback("studies.data", [("refresh", "n_intervals", 1)])
        rows = json.loads(bodies["studies"])["response"]["studies"]["data"]
        assert status == 200 and any(row["study"] == name for row in rows)
        selected = [i for i, row in enumerate(rows) if row["study"] == name]
        bodies["study"] = dashboard.callback("study-box.children", [("studies", "selected_rows", selected)],
                                             [("studies", "data", rows)])[1]  # fmt: skip
        assert name.encode() in bodies["study"]  # the study's page was rendered
        for path in files:
            if path.is_relative_to(logs):
                bodies[str(path)] = dashboard.get("/files/" + quote(str(path.relative_to(logs))))[1]
        assert not [where for where, body in bodies.items() if password in body]
    finally:
        dashboard.stop()


def test_cross_origin_and_oversized_posts_are_refused(logs, tmp_path):
    dashboard = Dashboard(logs, tmp_path)
    try:
        inputs = [("refresh", "n_intervals", 1)]
        assert dashboard.callback("studies.data", inputs)[0] == 200  # the page's own origin
        referer = {"Content-Type": "application/json", "Referer": dashboard.url + "/"}
        assert dashboard.callback("studies.data", inputs, headers=referer)[0] == 200
        for origin in ("http://evil.example", f"http://localhost.evil.example:{dashboard.port}", "null"):
            headers = {"Content-Type": "application/json", "Origin": origin}
            status, body = dashboard.callback("studies.data", inputs, headers=headers)
            assert status == 403 and b"ddqn_prio" not in body, origin
        assert dashboard.callback("studies.data", inputs, headers={"Content-Type": "application/json"})[0] == 403
        huge = b"{" + b" " * (100 << 20) + b"}"  # 100 MB: refused from its Content-Length, never read
        try:
            status = dashboard.callback("studies.data", inputs, body=huge)[0]
        except (ConnectionError, urllib.error.URLError):
            status = 413  # the server may close the connection before the client finished sending
        assert status == 413
    finally:
        dashboard.proc.terminate()
        output = dashboard.proc.communicate(timeout=10)[0]
    assert "Traceback" not in output


def test_storage_ids_are_random_not_derived_from_the_url(tmp_path):
    import hashlib

    from sb3_atari_ext.dashboard.data import LogsData

    url = "postgresql://u:docs-example-password@127.0.0.1/db"
    first, second = LogsData(tmp_path, url).storages(), LogsData(tmp_path, url).storages()
    assert list(first.values()) == [url] and list(first) != list(second)  # a new id per process
    digest = hashlib.sha256(url.encode()).hexdigest()
    assert all(key not in digest for key in (*first, *second))
    assert LogsData(tmp_path, url).storages().keys() != first.keys()


def test_only_local_host_headers_and_no_traceback_on_odd_paths(logs, tmp_path):
    dashboard = Dashboard(logs, tmp_path)
    try:
        assert dashboard.get("/", headers={"Host": "evil.example"})[0] == 400  # DNS rebinding
        assert dashboard.get("/", headers={"Host": f"attacker.test:{dashboard.port}"})[0] == 400
        assert dashboard.get("/", headers={"Host": f"localhost:{dashboard.port}"})[0] == 200
        probes = ["/files/%00", "/files/a%00b.png", "/files/" + "a" * 300 + ".png", "/files/" + "b/" * 40 + "c" * 260 + ".gif",
                  "/_dash-component-suites/../../etc/passwd", "/_dash-component-suites/dash/nope.js"]  # fmt: skip
        for probe in probes:
            assert dashboard.get(probe)[0] in (400, 404), probe
        # bodies that are not a callback of this page: 400, not Dash's 500 with a traceback
        own = {"Content-Type": "application/json", "Origin": dashboard.url}
        for body in ({"output": "nope.children", "inputs": []}, {"output": "studies.data", "inputs": "x"}, [1, 2],
                     {"output": "studies.data"}):  # fmt: skip
            status, answer = dashboard.callback("studies.data", [], headers=own, body=json.dumps(body).encode())
            assert status == 400 and b"Traceback" not in answer, body
    finally:
        dashboard.proc.terminate()
        output = dashboard.proc.communicate(timeout=10)[0]
    assert "Traceback" not in output
    assert output.count("dashboard: POST /_dash-update-component -> 400") == 4  # one line each


def test_public_bind_warns_and_bad_port_is_one_line(logs, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sb3_atari_ext.cli", "dashboard", "--logs", str(logs), "--port", "99999"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and result.stderr.strip() == "error: --port 99999 is not a TCP port (1-65535)"
    dashboard = Dashboard(logs, tmp_path, "--host", "0.0.0.0")
    try:
        assert dashboard.get("/")[0] == 200
    finally:
        dashboard.proc.terminate()
        output = dashboard.proc.communicate(timeout=10)[0]
    assert "warning: the dashboard has no authentication" in output


def test_binds_localhost_by_default(logs, tmp_path):
    dashboard = Dashboard(logs, tmp_path)
    try:
        out = (
            subprocess.run(["ss", "-ltnH", f"sport = :{dashboard.port}"], capture_output=True, text=True).stdout
            if shutil.which("ss")
            else ""
        )
        if out:
            port = dashboard.port
            assert f"127.0.0.1:{port}" in out and f"0.0.0.0:{port}" not in out and f"*:{port}" not in out
        host = socket.gethostbyname(socket.gethostname())
        if host != "127.0.0.1":
            with pytest.raises(OSError):
                socket.create_connection((host, dashboard.port), timeout=2)
    finally:
        dashboard.stop()


def test_first_page_with_200_runs_under_3_seconds(logs, browser, tmp_path):
    many = tmp_path / "logs"
    source = logs / "ddqn_prio" / "CartPole-v1_1"
    for i in range(1, 201):
        target = many / "ddqn_prio" / f"CartPole-v1_{i}"
        target.mkdir(parents=True)
        for name in ("0.monitor.csv", "metrics.yml", "CartPole-v1.zip"):
            shutil.copy(source / name, target / name)
    dashboard = Dashboard(many, tmp_path)
    try:
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(dashboard.url)
        page.wait_for_selector("text=ddqn_prio/CartPole-v1_1", timeout=30_000)
        elapsed = time.perf_counter() - start
        assert elapsed < 3.0, elapsed
        assert page.locator("#runs tr").count() == 2 + 25  # header, filter row, one page of 25 runs
        page.close()
    finally:
        dashboard.stop()


def test_thirty_runs_of_five_games_read_right(browser, tmp_path):
    import numpy as np

    from tests.analysis.many_runs import write_many_runs

    many = write_many_runs(tmp_path / "many")
    newest = many / "dqn" / "BreakoutNoFrameskip-v4_2" / "0.monitor.csv"
    later = time.time() + 5
    os.utime(newest, (later, later))  # the newest run: its group (dqn on Breakout, 2 seeds) is selected on load
    dashboard = Dashboard(many, tmp_path)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 2000})
        page.goto(dashboard.url)
        page.wait_for_selector("text=ddqn_prio [policy=TransformerPolicy]", timeout=30_000)
        # two runs selected: each drawn as episodes (dots) and a smoothed line, one colour per run
        page.wait_for_function("document.querySelectorAll('#curves .scatterlayer .trace').length == 4", timeout=30_000)
        legend = page.locator("#curves .legend").text_content()
        assert "dqn/BreakoutNoFrameskip-v4_1" in legend and "dqn/BreakoutNoFrameskip-v4_2" in legend
        assert "agent timesteps" in page.locator("#curves .xtitle").text_content()
        # the metrics: one panel (y-axis) per metric
        page.wait_for_function("document.querySelectorAll('#metrics .ytick').length > 0", timeout=30_000)
        titles = page.locator("#metrics .annotation-text").all_text_contents()
        assert titles == ["loss", "mean Q"]
        page.screenshot(path=str(tmp_path / "many.png"), full_page=True)
        with Image.open(tmp_path / "many.png") as image:
            gray = np.asarray(image.convert("L"), dtype=np.float64)
        assert gray.std() > 10  # curves and tables, not a blank page
        page.close()
    finally:
        dashboard.stop()


def test_apex_runs_show_their_actors_and_learner(logs, tmp_path):
    from sb3_atari_ext.apex.status import write_status
    from sb3_atari_ext.dashboard.data import LogsData

    folder = tmp_path / "logs"
    shutil.copytree(logs, folder)
    run = folder / "apex_ddqn" / "CartPole-v1_1"
    shutil.copytree(logs / "ddqn_prio" / "CartPole-v1_1", run)
    actors = [{"index": i, "pid": 900 + i, "node": "node-a", "env_steps": 1000 * (i + 1), "steps_per_s": 55.5,
               "epsilon": eps, "episodes": 7, "last_score": 31.0, "restarts": i} for i, eps in enumerate((0.4, 0.0007))]
    learner = {"pid": 42, "node": "gpu-node", "device": "cuda", "updates": 777, "updates_per_s": 12.5,
               "replay_size": 3000, "replay_ratio": 7.9, "env_steps": 3000}  # fmt: skip
    write_status(run, {"state": "running", "updated": time.time(), "actors": actors, "learner": learner})
    rows = LogsData(folder).table()
    apex_row = next(i for i, r in enumerate(rows) if r["run"] == "apex_ddqn/CartPole-v1_1")
    other_row = next(i for i, r in enumerate(rows) if r["run"] == "ddqn_prio/CartPole-v1_1")
    dashboard = Dashboard(folder, tmp_path)
    try:
        def apex_box(selected):
            inputs = [("runs", "derived_virtual_selected_rows", selected), ("runs", "derived_virtual_data", rows),
                      ("refresh", "n_intervals", 1)]  # fmt: skip
            status, body = dashboard.callback("apex-box.children", inputs)
            assert status in (200, 204), body[-500:]
            return body.decode()

        shown = apex_box([apex_row, other_row])
        assert "Ape-X actors and learner" in shown and "gpu-node" in shown and "replay ratio 7.90" in shown
        assert '"pid":"900"' in shown.replace(" ", "") and '"epsilon":"0.001"' in shown.replace(" ", "")
        assert "Ape-X" not in apex_box([other_row])  # a run without a status file shows nothing
    finally:
        dashboard.stop()
