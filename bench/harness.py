"""What every measurement shares: databases, the app, timing, query counts, servers."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import incidents.models as models
from incidents import create_app
from incidents.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-secret-key-not-for-production"
SLACK_SECRET = "bench-slack-signing-secret"
PAGERDUTY_SECRET = "bench-pagerduty-secret"
PASSWORD = "bench-password-1"


@dataclass
class Result:
    """One row of the table."""

    measurement: str
    database: str
    figures: str
    target: str
    met: bool | None  # None: informational, or could not run


class Database:
    """A benchmark database: a temp SQLite file, or a PostgreSQL database created and dropped."""

    def __init__(self, url: str, name: str):
        self.url = url
        self.name = name
        self._admin = None
        if url.startswith("postgresql"):
            parsed = make_url(url)
            self._database = parsed.database
            self._admin = parsed.set(database="postgres")

    @classmethod
    def sqlite(cls, directory: str) -> Database:
        return cls(f"sqlite:///{os.path.join(directory, 'bench.db')}", "sqlite")

    def __enter__(self) -> Database:
        self._drop_and_create()
        return self

    def __exit__(self, *exc) -> None:
        if self._admin is not None:
            self._drop_and_create(create=False)
        else:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(make_url(self.url).database + suffix)

    def _drop_and_create(self, create: bool = True) -> None:
        if self._admin is None:
            return
        admin = create_engine(self._admin, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self._database}" WITH (FORCE)'))
            if create:
                conn.execute(text(f'CREATE DATABASE "{self._database}"'))
        admin.dispose()

    def reset(self) -> None:
        """An empty schema, as the models declare it."""
        engine = make_engine(self.url)
        models.Base.metadata.drop_all(engine)
        models.Base.metadata.create_all(engine)
        engine.dispose()
        if self._admin is None:  # a fresh file: WAL from an earlier phase would linger
            with contextlib.suppress(FileNotFoundError):
                os.remove(make_url(self.url).database + "-wal")


def app_config(database_url: str, **extra) -> dict:
    """Production-like settings (CSRF on, not TESTING) on the benchmark database."""
    config = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "PAGERDUTY_WEBHOOK_SECRET": PAGERDUTY_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "PUBLIC_BASE_URL": "http://127.0.0.1",
    }
    config.update(extra)
    return config


def make_app(database_url: str, **extra):
    return create_app(app_config(database_url, **extra))


def server_env(database_url: str, **extra) -> dict:
    """The same settings as environment variables, for a server subprocess."""
    env = dict(os.environ)
    env.update({k: str(v) for k, v in app_config(database_url, **extra).items()})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def login_form(page: str, email: str, password: str = PASSWORD) -> dict:
    """The login form's fields, with the CSRF token the page carries."""
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return {"email": email, "password": password, "csrf_token": token.group(1) if token else ""}


def login(client, email: str) -> None:
    """Sign a test client in through the real form."""
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data=login_form(page, email))
    if response.status_code != 302:
        raise RuntimeError(f"bench login failed: {response.status_code}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def timed(fn, repeat: int) -> list[float]:
    """Seconds per call of `fn`, `repeat` times."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def interleaved(sides: dict, rounds: int, per_round: int) -> dict[str, list[float]]:
    """Time each side's callable in alternating blocks, so drift on a shared machine hits both."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for n in range(rounds):
        for name in names if n % 2 == 0 else reversed(names):
            times[name].extend(timed(sides[name], per_round))
    return times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: SIGTERM when the benchmark process dies, so no server outlives it."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Gunicorn:
    """A gunicorn subprocess on loopback with a random free port; stopped on exit."""

    def __init__(self, app: str, env: dict, workers: int = 1, threads: int = 1):
        self.app, self.env, self.workers, self.threads = app, env, workers, threads
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        command = [sys.executable, "-m", "gunicorn", "--workers", str(self.workers),
                   "--threads", str(self.threads), "--bind", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", "--timeout", "120", self.app]
        self.process = subprocess.Popen(command, env=self.env, cwd=ROOT,
                                        preexec_fn=_die_with_parent)
        try:
            self._wait_until_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            with contextlib.suppress(requests.RequestException):
                requests.get(self.url + "/login", timeout=10)
                return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def worker_pid(self) -> int:
        import psutil

        children = psutil.Process(self.process.pid).children()
        return children[0].pid

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class _FakeSlackApi(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"ok": True, "channel": {"id": "CBENCH", "name": "bench"},
                           "ts": "1.0", "messages": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST  # noqa: N815

    def log_message(self, *_args):
        pass


@contextlib.contextmanager
def fake_slack_api():
    """A Slack Web API stand-in on loopback answering `ok`, so nothing leaves the machine."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSlackApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def temp_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="linecheck-bench-")


def summary(times: list[float]) -> str:
    return f"median {ms(statistics.median(times))}, p95 {ms(percentile(times, 95))}"
