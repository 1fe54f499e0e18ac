"""Test helpers shipped with the API (tests, benchmarks and plugin authors use them):
signed Discourse deliveries, and `LoopbackDiscourse`, a recording HTTP server on 127.0.0.1
that answers like Discourse's `POST /posts.json` and `GET /t/{id}.json`."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from api.discourse import sign
from copilot.store_records import ROLES

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "data" / "discourse"

EVENT_TYPES = {"post": "post", "topic": "topic", "user": "user", "ping": "ping"}


def sample_payload(name: str) -> dict[str, Any]:
    """A Discourse payload from tests/data/discourse (`post_created`, `topic_created`, ...)."""
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def discourse_headers(
    body: bytes,
    secret: str | None,
    *,
    event: str = "post_created",
    event_id: str | None = None,
    instance: str = "https://forum.lumen.example",
) -> dict[str, str]:
    """The headers Discourse sends with a delivery (signed when `secret` is given)."""
    headers = {
        "Content-Type": "application/json",
        "X-Discourse-Instance": instance,
        "X-Discourse-Event-Id": event_id or str(uuid.uuid4().int % 10**6),
        "X-Discourse-Event-Type": EVENT_TYPES.get(event.split("_")[0], event.split("_")[0]),
        "X-Discourse-Event": event,
    }
    if secret is not None:
        headers["X-Discourse-Event-Signature"] = sign(secret, body)
    return headers


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class LoopbackDiscourse:
    """A fake Discourse on a loopback port that records what it receives."""

    requests: list[RecordedRequest] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0  # answer the next N POSTs with 502

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def _reply(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                data = json.loads(self.rfile.read(length) or b"null")
                owner.requests.append(
                    RecordedRequest("POST", self.path, dict(self.headers.items()), data)
                )
                if owner.fail_next > 0:
                    owner.fail_next -= 1
                    self._reply(502, {"errors": ["upstream"]})
                    return
                if self.path != "/posts.json":
                    self._reply(404, {"errors": ["not found"]})
                    return
                post = {
                    "id": 9000 + len(owner.posts) + 1,
                    "topic_id": data.get("topic_id"),
                    "topic_slug": "hub-offline-after-lumenos-3-3-update",
                    "post_number": len(owner.posts) + 2,
                    "username": self.headers.get("Api-Username"),
                    "raw": data.get("raw"),
                    "cooked": f"<p>{data.get('raw')}</p>",
                }
                owner.posts.append(post)
                self._reply(200, post)

            def do_GET(self) -> None:  # noqa: N802
                owner.requests.append(
                    RecordedRequest("GET", self.path, dict(self.headers.items()), None)
                )
                if self.path.startswith("/t/"):
                    topic = self.path.split("/")[2].split(".")[0].split("?")[0]
                    stream = [p for p in owner.posts if str(p["topic_id"]) == topic]
                    self._reply(200, {"post_stream": {"posts": stream}})
                    return
                self._reply(404, {"errors": ["not found"]})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def posted(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path == "/posts.json"]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


TEST_SECRET = "test-webhook-secret-7f3a"


@dataclass
class Harness:
    """An app over a SQLite store in a temporary folder, with one key per role."""

    app: Any
    store: Any
    settings: Any
    keys: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def work(self) -> None:
        """One worker pass, until the queue is empty: the deterministic drafter (no model), no
        learning, and the app's publisher (when it has none, the one the settings name)."""
        worker_pass(self.settings, self.store, self.app.state.publisher)


def worker_pass(settings: Any, store: Any, publisher: Any, drafter: Any = None) -> None:
    """Drain the job queue once in this process: `drafter` (default: the deterministic
    `fake_draft`, no model), no learning, the given publisher."""
    from copilot.worker import fake_draft, run_worker

    run_worker(
        settings,
        once=True,
        store=store,
        drafter=drafter or fake_draft,
        learner=lambda _record: None,
        publisher=publisher,
        poll=0.01,
    )


def build_harness(
    folder: Path,
    *,
    model: Any = None,
    index: Any = None,
    publisher: Any = None,
    database_url: str | None = None,
    **settings_overrides: Any,
) -> Harness:
    """Settings (env=test), a migrated store, the app and a key for each role."""
    from api.app import create_app
    from copilot.settings import load_settings
    from copilot.store import open_store

    values: dict[str, Any] = {
        "env": "test",
        "data_dir": folder / "data",
        "database_url": database_url or f"sqlite:///{folder / 'moments.db'}",
        "discourse_webhook_secret": TEST_SECRET,
        "discourse_api_username": "moments-bot",
    }
    values.update(settings_overrides)
    settings = load_settings(**values)
    store = open_store(settings)
    keys: dict[str, str] = {r: store.create_api_key(r, f"{r}-key")[1] for r in ROLES}
    app = create_app(settings, store=store, model=model, index=index, publisher=publisher)
    return Harness(app=app, store=store, settings=settings, keys=keys)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(
    env: dict[str, str],
    *,
    app: str = "api.app:create_app",
    port: int | None = None,
    log_path: Path | None = None,
    startup_seconds: float = 60.0,
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Run `uvicorn --factory <app>` in a subprocess on a loopback port; yields its base URL.

    `env` is added to a copy of os.environ with every MOMENTS_ variable removed first."""
    import os
    import subprocess
    import sys
    import time

    import httpx

    port = port or free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("MOMENTS_")}
    child_env.update(env)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *extra_args,
    ]
    url = f"http://127.0.0.1:{port}"
    out = log_path.open("wb") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        command, env=child_env, stdout=out, stderr=subprocess.STDOUT, cwd=str(SAMPLES.parents[2])
    )
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if process.poll() is not None:
                detail = log_path.read_text(errors="replace")[-2000:] if log_path else ""
                raise RuntimeError(f"uvicorn exited with {process.returncode}: {detail}")
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not answer {url}/v1/health in time")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if log_path and not isinstance(out, int):
            out.close()
