"""Knowledge over HTTP against a real embedded Chroma in tmp_path (with the fake embedder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.testing import Harness, build_harness

GUIDELINE = b"""# Refunds

Staff never promise refunds in public. Refunds go through the store's support ticket within
30 days of delivery. Point the member to the ticket form and thank them for their patience.
"""


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    from copilot.embeddings import FakeEmbedder
    from copilot.retrieval import open_index
    from copilot.settings import load_settings

    settings = load_settings(env="test", data_dir=tmp_path / "data", knowledge_dir=tmp_path / "kb")
    index = open_index(settings, embedder=FakeEmbedder())
    h = build_harness(tmp_path, index=index, knowledge_dir=tmp_path / "kb")
    yield h
    h.store.close()


def test_upload_search_list_delete(client: TestClient, harness: Harness) -> None:
    admin, reviewer = harness.auth("admin"), harness.auth("reviewer")
    uploaded = client.post(
        "/v1/knowledge",
        files=[
            ("files", ("refunds.md", GUIDELINE, "text/markdown")),
            ("files", ("broken.jsonl", b'{"id": "x", "post": \n', "application/jsonl")),
        ],
        headers=admin,
    )
    assert uploaded.status_code == 200, uploaded.text
    body = uploaded.json()
    assert body["report"]["files_indexed"] >= 1
    assert any("broken.jsonl" in p for p in body["problems"])

    found = client.get("/v1/knowledge/search", params={"q": "refund ticket"}, headers=reviewer)
    assert found.status_code == 200
    results = found.json()["results"]
    assert results and "support ticket" in results[0]["text"]
    assert results[0]["kind"] == "guideline"

    sources = client.get("/v1/knowledge/sources", headers=reviewer).json()
    names = [s["source"] for s in sources["sources"]]
    refunds = next(n for n in names if n.endswith("refunds.md"))
    assert sources["stats"]["guidelines"] >= 1

    deleted = client.delete(f"/v1/knowledge/sources/{refunds}", headers=admin)
    assert deleted.status_code == 200 and deleted.json()["deleted"] >= 1
    again = client.delete(f"/v1/knowledge/sources/{refunds}", headers=admin)
    assert again.status_code == 404


def test_unsupported_upload_is_400(client: TestClient, harness: Harness) -> None:
    response = client.post(
        "/v1/knowledge",
        files=[("files", ("payload.exe", b"MZ", "application/octet-stream"))],
        headers=harness.auth("admin"),
    )
    assert response.status_code == 400
    assert ".md" in response.json()["error"]["hint"]


def test_search_needs_a_query(client: TestClient, harness: Harness) -> None:
    response = client.get("/v1/knowledge/search", headers=harness.auth("reviewer"))
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "q"
