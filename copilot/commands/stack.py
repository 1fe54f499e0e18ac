"""`moments ui` and `moments up`: the review UI, and the whole stack on one machine.

`moments up` prepares the bundled model, indexes the default knowledge base when the index is
empty, makes sure a local admin key exists (kept in the data directory, readable only by you),
then runs the API, one worker and the UI as child processes until you press Ctrl-C.

The API and the worker both write to the knowledge index (uploads; approved replies learned
back), and embedded Chroma is single-process; so unless MOMENTS_CHROMA_URL points at a server,
`moments up` also runs `chroma run` on the data directory's index and points both at it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

UI_APP = Path(__file__).resolve().parent.parent.parent / "ui" / "app.py"


def _script(name: str) -> list[str]:
    """A console script of this environment. Unlike `python -m`, it does not put the current
    directory on sys.path, so a folder named `api` or `ui` where you run it cannot shadow ours."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return [str(candidate)]
    module = {"moments": "copilot.cli"}.get(name, name)
    return [sys.executable, "-m", module]


def ui_command(port: int, api_url: str) -> list[str]:
    return [
        *_script("streamlit"),
        "run",
        str(UI_APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


def local_key_path(data_dir: Path) -> Path:
    return data_dir / "local-admin.key"


def ensure_local_key(data_dir: Path) -> str:
    """The local admin key for the UI, created once and kept in the data dir (mode 600)."""
    from copilot.store import open_store

    path = local_key_path(data_dir)
    store = open_store()
    try:
        if path.exists():
            key = path.read_text(encoding="utf-8").strip()
            if store.verify_api_key(key) is not None:
                return key
        _, key = store.create_api_key("admin", "local-admin (moments up)")
    finally:
        store.close()
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n", encoding="utf-8")
    path.chmod(0o600)
    return key


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, seconds: float) -> bool:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def register(app: typer.Typer) -> None:
    @app.command("ui")
    def ui(
        port: Annotated[int | None, typer.Option(help="Port (default MOMENTS_UI_PORT).")] = None,
    ) -> None:
        """Start the Streamlit review UI (it talks to the API at MOMENTS_API_URL)."""
        from copilot.settings import get_settings

        settings = get_settings()
        cmd = ui_command(port or settings.ui_port, settings.api_url)
        raise typer.Exit(
            subprocess.call(cmd, env={**os.environ, "MOMENTS_API_URL": settings.api_url})
        )

    @app.command("up")
    def up(
        no_ui: Annotated[
            bool, typer.Option("--no-ui", help="Run only the API and the worker.")
        ] = False,
    ) -> None:
        """Run the API, a worker and the UI on the embedded defaults until Ctrl-C."""
        from copilot.models import ensure_bundled_model
        from copilot.retrieval import open_index
        from copilot.settings import get_settings

        settings = get_settings()
        if settings.llm_provider == "local":
            ensure_bundled_model(settings, progress=True)
        index = open_index(settings)
        stats = index.stats()
        if stats.guidelines + stats.interactions == 0:
            typer.echo(
                f"Indexing the default knowledge base in {settings.resolved_knowledge_dir} …"
            )
            report = index.index_paths([settings.resolved_knowledge_dir])
            typer.echo(f"Indexed {report.chunks_total} chunks.")
        del index
        key = ensure_local_key(settings.resolved_data_dir)
        api_url = f"http://{settings.api_host}:{settings.api_port}"
        env = {**os.environ, "MOMENTS_API_URL": api_url, "ANONYMIZED_TELEMETRY": "False"}
        procs: dict[str, subprocess.Popen[bytes]] = {}
        if not settings.chroma_url:
            port = _free_port()
            chroma_url = f"http://127.0.0.1:{port}"
            log = (settings.resolved_data_dir / "chroma-server.log").open("ab")
            procs["chroma"] = subprocess.Popen(
                [
                    *_script("chroma"),
                    "run",
                    "--path",
                    str(settings.chroma_path),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            if not _wait_for(f"{chroma_url}/api/v2/heartbeat", 60):
                procs["chroma"].terminate()
                typer.secho(
                    f"Chroma did not start; see {settings.resolved_data_dir / 'chroma-server.log'}",
                    err=True,
                    fg="red",
                )
                raise typer.Exit(1)
            env["MOMENTS_CHROMA_URL"] = chroma_url
        moments = _script("moments")
        procs["api"] = subprocess.Popen([*moments, "serve"], env=env)
        procs["worker"] = subprocess.Popen([*moments, "worker"], env=env)
        if not no_ui:
            procs["ui"] = subprocess.Popen(ui_command(settings.ui_port, api_url), env=env)

        stopping = False

        def stop(*_: object) -> None:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()

        def on_term(*_: object) -> None:
            nonlocal stopping
            stopping = True
            stop()

        signal.signal(signal.SIGTERM, on_term)
        try:
            if _wait_for(f"{api_url}/v1/health", 60):
                typer.secho(f"\nAPI      {api_url}  (OpenAPI docs: {api_url}/docs)", fg="green")
                if not no_ui:
                    typer.secho(f"UI       http://127.0.0.1:{settings.ui_port}", fg="green")
                typer.secho(
                    "Sign in with the local admin key (kept in "
                    f"{local_key_path(settings.resolved_data_dir)}):\n  {key}",
                    fg="green",
                )
                typer.echo("Press Ctrl-C to stop.")
            while not stopping and all(p.poll() is None for p in procs.values()):
                time.sleep(0.5)
            failed = [name for name, p in procs.items() if p.returncode not in (None, 0)]
            if failed and not stopping:
                typer.secho(
                    f"Stopped: {', '.join(failed)} exited; see the output above.",
                    err=True,
                    fg="red",
                )
                raise typer.Exit(1)
        except KeyboardInterrupt:
            typer.echo("\nStopping …")
        finally:
            stop()
            for proc in procs.values():
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
