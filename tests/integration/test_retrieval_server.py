"""The knowledge index against a real Chroma server (`chroma run`) via MOMENTS_CHROMA_URL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.testing import free_port
from copilot.retrieval import open_index
from copilot.settings import load_settings
from copilot.types import SnippetKind


def _chroma_binary() -> str:
    candidate = Path(sys.executable).parent / "chroma"
    found = str(candidate) if candidate.exists() else shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` console script is missing (pip install chromadb)")
    return found


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    log = (path / "server.log").open("wb")
    process = subprocess.Popen(
        [
            _chroma_binary(),
            "run",
            "--path",
            str(path / "db"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    "chroma run did not start: " + (path / "server.log").read_text()[-2000:]
                )
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_index_and_search_through_a_chroma_server(
    chroma_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "crisis.md").write_text(
        "# Crisis communication\nMoment: crisis\n\n## Status updates\n\nPost an update every 30 "
        "minutes while the incident is ongoing, and say when the next one will come.\n\n"
        "## Causes\n\nNever speculate about the cause before engineering confirms it.\n",
        encoding="utf-8",
    )
    (kb / "past.jsonl").write_text(
        '{"id": "int-1", "moment": "crisis", "post": "Is Lumen Cloud down? My scenes are gone", '
        '"reply": "Yes, Cloud sync is down; local control still works. Next update at 15:00 UTC."}'
        "\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("MOMENTS_CHROMA_URL", chroma_url)
    settings = load_settings(data_dir=tmp_path / "data")
    assert settings.chroma_url == chroma_url
    index = open_index(settings)
    assert index.backend == "server"

    report = index.index_paths([kb])
    assert (report.chunks_added, report.problems) == (3, [])
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded locally

    hits = index.search("how often should we post updates during an outage", k=2)
    assert (
        hits[0].source == "crisis.md" and hits[0].heading == "Crisis communication > Status updates"
    )
    examples = index.search("cloud outage", k=1, kind=SnippetKind.INTERACTION)
    assert examples[0].metadata["interaction_id"] == "int-1"

    # a second process (a fresh client) sees the same index and embeds nothing
    again = open_index(settings).index_paths([kb])
    assert (again.chunks_unchanged, again.chunks_embedded) == (3, 0)
    assert {s.source for s in index.list_sources()} == {"crisis.md", "past.jsonl"}
    assert index.delete_source("past.jsonl") == 1
    assert index.stats().interactions == 0
