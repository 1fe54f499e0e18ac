"""Integration fixtures: real models, real servers. Each area keeps its fixtures in a marked section.

Every test here is auto-marked `integration` (tests/conftest.py), so real model calls are allowed.
`database_url` (below the LLM section) runs a test once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.testing import free_port
from copilot.llm.local import LlamaCppChatModel

REPO_ROOT = Path(__file__).resolve().parents[2]

# =============================================================================================
# LLM and bundled models (owner: LLM layer). Get the real model from here:
#   bundled_model_path  -> Path of the assembled, sha256-verified 1.5B GGUF (shared cache)
#   local_chat_model    -> one LlamaCppChatModel on it (loaded lazily, shared by the session)
#   llama_server_url    -> base URL (".../v1") of a real `python -m llama_cpp.server` on it
# The GGUF is assembled once into $MOMENTS_TEST_CACHE (default: <repo>/.moments-test-cache,
# git-ignored by its own .gitignore) and reused across runs while its marker matches.
# =============================================================================================

BUNDLED_MODEL_NAME = "qwen2.5-coder-1.5b"


@pytest.fixture(scope="session")
def test_cache_dir() -> Path:
    """A data directory shared by test runs for expensive artefacts (the assembled GGUF)."""
    path = Path(os.environ.get("MOMENTS_TEST_CACHE") or REPO_ROOT / ".moments-test-cache")
    path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    return path.resolve()


@pytest.fixture(scope="session")
def bundled_model_path(test_cache_dir: Path) -> Path:
    """The real bundled 1.5B GGUF, assembled from its chunk packages and verified (once)."""
    from copilot.models import ensure_bundled_model
    from copilot.settings import load_settings

    settings = load_settings(data_dir=test_cache_dir, llm_provider="local")
    return ensure_bundled_model(settings, progress=False, name=BUNDLED_MODEL_NAME)


@pytest.fixture(scope="session")
def local_chat_model(bundled_model_path: Path) -> LlamaCppChatModel:
    """The real local chat model (n_ctx 4096, all cores). Loaded on first use, then shared."""
    return LlamaCppChatModel(
        bundled_model_path,
        n_ctx=4096,
        n_threads=os.cpu_count() or 1,
        name=BUNDLED_MODEL_NAME,
    )


@pytest.fixture(scope="session")
def llama_server_url(
    bundled_model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real OpenAI-compatible server (llama-cpp-python's `llama_cpp.server`, through
    `copilot.llm.llama_server`, which keeps it off the AMX kernels that crash on this CPU) on
    the bundled model."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "copilot.llm.llama_server",
        "--model",
        str(bundled_model_path),
        "--model_alias",
        BUNDLED_MODEL_NAME,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        str(os.cpu_count() or 1),
    ]
    base_url = f"http://127.0.0.1:{port}/v1"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 180
            while True:
                if process.poll() is not None:
                    pytest.fail(
                        f"llama_cpp.server exited with {process.returncode}:\n"
                        + log.read_text(errors="replace")[-2000:]
                    )
                try:
                    if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("llama_cpp.server did not answer /v1/models within 180 s")
                time.sleep(0.5)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


# ============================== end of the LLM section =======================================


# =============================================================================================
# Database backends (owner: store and API). `database_url` is parametrized: each test that
# takes it runs on a SQLite file in tmp_path and on PostgreSQL in a fresh schema (search_path
# in the URL), dropped afterwards. PostgreSQL: MOMENTS_TEST_POSTGRES_URL, by default
# postgresql+psycopg://postgres@127.0.0.1:5432/test (trust auth).
# =============================================================================================

PG_URL = os.environ.get(
    "MOMENTS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'moments.db'}"
        return
    import psycopg

    schema = f"it_{uuid.uuid4().hex[:12]}"
    admin_url = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


# ============================== end of the database section ==================================
