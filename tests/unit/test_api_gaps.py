"""The endpoints the UI needed: who am I, the incident list, a member's history, a knowledge
source's full text, and eval runs (list, read, compare). Auth, shapes and 404s."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.testing import Harness, build_harness
from copilot import review
from copilot.llm.fake import FakeChatModel
from copilot.types import Member, Post

FACTS = {
    "title": "Lumen Cloud sync outage",
    "what_happened": "Lumen Cloud sync is failing for remote access and scene backups",
    "started_at": "14:05 UTC on 3 March",
    "affected": "members using remote access or scene backup",
    "known": ["local control on the Hub still works"],
    "next_update_at": "15:00 UTC",
}

GUIDE = """# Negative feedback

## Own it

Own the problem without blaming anyone.

## Acknowledge

Acknowledge the problem in the member's words.

## Step 2 of 10

Give one next step.

## Step 10 of 10

Close with thanks.
"""

PLUGIN_FORBIDDEN = [
    "/v1/incidents",
    "/v1/members/samr",
    "/v1/knowledge/sources/guide.md",
    "/v1/evals/runs",
    "/v1/evals/runs/r1",
    "/v1/evals/compare?a=r1&b=r2",
]


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "eval-runs"
    monkeypatch.setenv("MOMENTS_EVAL_RUNS_DIR", str(folder))
    return folder


@pytest.fixture
def harness(tmp_path: Path, runs_dir: Path) -> Iterator[Harness]:
    from copilot.embeddings import FakeEmbedder
    from copilot.retrieval import open_index
    from copilot.settings import load_settings

    settings = load_settings(env="test", data_dir=tmp_path / "data", knowledge_dir=tmp_path / "kb")
    index = open_index(settings, embedder=FakeEmbedder())
    model = FakeChatModel(default="We are on it and will post the next update at 15:00 UTC.")
    h = build_harness(tmp_path, model=model, index=index, knowledge_dir=tmp_path / "kb")
    yield h
    h.store.close()


def drafted(harness: Harness, post: Post) -> int:
    submitted = harness.store.submit_post(post, source="api-key:1")
    harness.work()
    draft_id = harness.store.draft_for_job(submitted.job_id)
    assert draft_id is not None
    return int(draft_id)


def member_post(forum_post_id: str, title: str, handle: str = "samr") -> Post:
    return Post(
        title=title,
        text=f"{title}: my Hub keeps dropping offline since the update.",
        member=Member(handle=handle, name="Sam Rivera", joined_at=date(2024, 5, 1), post_count=42),
        forum="discourse",
        forum_post_id=forum_post_id,
    )


# Auth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PLUGIN_FORBIDDEN)
def test_plugin_keys_are_refused_and_missing_keys_are_401(
    client: TestClient, harness: Harness, path: str
) -> None:
    assert client.get(path).status_code == 401
    refused = client.get(path, headers=harness.auth("plugin"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("role", ["plugin", "reviewer", "admin"])
def test_me_names_the_calling_key(client: TestClient, harness: Harness, role: str) -> None:
    response = client.get("/v1/me", headers=harness.auth(role))
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == role and body["name"] == f"{role}-key"
    record = harness.store.verify_api_key(harness.keys[role])
    assert record is not None and body["key_id"] == record.id


def test_me_without_a_key_is_401(client: TestClient) -> None:
    assert client.get("/v1/me").status_code == 401


def test_openapi_documents_the_new_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    expected = {
        ("/v1/me", "me"),
        ("/v1/incidents", "crisis"),
        ("/v1/members/{handle}", "members"),
        ("/v1/knowledge/sources/{source}", "knowledge"),
        ("/v1/evals/runs", "evals"),
        ("/v1/evals/runs/{run_id}", "evals"),
        ("/v1/evals/compare", "evals"),
    }
    for path, tag in expected:
        operation = spec["paths"][path]["get"]
        assert operation["tags"] == [tag], path
        assert operation["summary"], path
        assert "$ref" in json.dumps(operation["responses"]["200"]), path
    tags = {t["name"] for t in spec["tags"]}
    assert {"me", "members", "evals"} <= tags


# Incidents -----------------------------------------------------------------------------------


def test_incidents_are_listed_newest_first_with_what_awaits_approval(
    client: TestClient, harness: Harness
) -> None:
    auth = harness.auth("reviewer")
    assert client.get("/v1/incidents", headers=auth).json() == []
    for incident_id in ("inc-a", "inc-b"):
        created = client.post(
            "/v1/incidents",
            json={"incident_id": incident_id, "facts": FACTS, "channels": ["forum", "banner"]},
            headers=auth,
        )
        assert created.status_code == 201, created.text
    client.post("/v1/incidents/inc-a/statements/forum/approve", headers=auth)
    listed = client.get("/v1/incidents", headers=auth).json()
    assert [i["id"] for i in listed] == ["inc-b", "inc-a"]
    a = listed[1]
    assert a["title"] == "Lumen Cloud sync outage" and a["stage"] == "initial"
    assert a["started_at"] == "14:05 UTC on 3 March"
    assert (a["statements"], a["pending"], a["approved"], a["rejected"]) == (2, 1, 1, 0)
    assert client.get("/v1/incidents?limit=1", headers=auth).json()[0]["id"] == "inc-b"


def test_the_incident_list_counts_only_the_latest_stage(
    client: TestClient, harness: Harness
) -> None:
    auth = harness.auth("reviewer")
    client.post(
        "/v1/incidents",
        json={"incident_id": "inc-c", "facts": FACTS, "channels": ["forum"]},
        headers=auth,
    )
    updated = client.post(
        "/v1/incidents/inc-c/updates",
        json={"stage": "update", "facts": {"progress": ["rollback started"]}},
        headers=auth,
    )
    assert updated.status_code == 201, updated.text
    (item,) = client.get("/v1/incidents", headers=auth).json()
    assert item["stage"] == "update"
    assert item["statements"] == 2 and item["pending"] == 1


# Members -------------------------------------------------------------------------------------


def test_member_history_has_profile_posts_and_approved_replies(
    client: TestClient, harness: Harness
) -> None:
    first = drafted(harness, member_post("m-1", "Zigbee bridge question"))
    second = drafted(harness, member_post("m-2", "Hub reboots at night"))
    drafted(harness, member_post("o-1", "Someone else", handle="jo"))
    review.approve(harness.store, first, "Maya Okafor")
    response = client.get("/v1/members/samr", headers=harness.auth("reviewer"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["member"]["handle"] == "samr" and body["member"]["post_count"] == 42
    assert body["member"]["joined_at"] == "2024-05-01"
    assert [p["title"] for p in body["posts"]] == ["Hub reboots at night", "Zigbee bridge question"]
    by_title = {p["title"]: p for p in body["posts"]}
    assert by_title["Zigbee bridge question"]["draft_status"] == "approved"
    assert by_title["Hub reboots at night"]["draft_id"] == second
    assert by_title["Hub reboots at night"]["draft_status"] == "pending"
    assert [r["id"] for r in body["replies"]] == [first]
    assert body["replies"][0]["member_handle"] == "samr"


def test_member_handles_match_ignoring_case_and_unknown_members_are_404(
    client: TestClient, harness: Harness
) -> None:
    drafted(harness, member_post("m-3", "Scenes lost"))
    auth = harness.auth("reviewer")
    assert client.get("/v1/members/SamR", headers=auth).json()["member"]["handle"] == "samr"
    missing = client.get("/v1/members/nobody", headers=auth)
    assert missing.status_code == 404
    assert "nobody" in missing.json()["error"]["message"]
    other = client.get("/v1/members/samr?community=elsewhere", headers=auth)
    assert other.status_code == 404


# Knowledge sources ---------------------------------------------------------------------------


def test_a_source_is_returned_whole_in_document_order(
    client: TestClient, harness: Harness, tmp_path: Path
) -> None:
    folder = tmp_path / "kb" / "guidelines"
    folder.mkdir(parents=True)
    guide = folder / "negative feedback.md"
    guide.write_text(GUIDE, encoding="utf-8")
    harness.app.state.index.index_paths([guide])
    source = harness.app.state.index.list_sources()[0].source
    assert "/" in source  # the route must keep the slashes of a path-like source
    response = client.get(f"/v1/knowledge/sources/{source}", headers=harness.auth("reviewer"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == source and body["kind"] == "guideline"
    assert body["title"] == "Negative feedback"
    headings = [c["heading"].split(" > ")[-1] for c in body["chunks"]]
    assert headings == ["Own it", "Acknowledge", "Step 2 of 10", "Step 10 of 10"]  # as written
    assert "member's words" in body["chunks"][1]["text"]
    hits = harness.app.state.index.search("member's words", k=1)
    assert hits[0].id in {c["id"] for c in body["chunks"]}  # a citation's id opens here


def test_a_source_whose_file_is_gone_is_ordered_by_heading(
    client: TestClient, harness: Harness, tmp_path: Path
) -> None:
    guide = tmp_path / "steps.md"
    guide.write_text(GUIDE, encoding="utf-8")
    harness.app.state.index.index_paths([guide])
    source = harness.app.state.index.list_sources()[0].source
    guide.unlink()
    body = client.get(f"/v1/knowledge/sources/{source}", headers=harness.auth("reviewer")).json()
    headings = [c["heading"].split(" > ")[-1] for c in body["chunks"]]
    assert headings.index("Step 2 of 10") < headings.index("Step 10 of 10")


def test_an_unknown_source_is_404(client: TestClient, harness: Harness) -> None:
    response = client.get("/v1/knowledge/sources/no/such.md", headers=harness.auth("reviewer"))
    assert response.status_code == 404
    assert "GET /v1/knowledge/sources" in response.json()["error"]["hint"]


# Eval runs -----------------------------------------------------------------------------------


def run(run_id: str, started: str, warmth: float, passed: bool) -> dict[str, Any]:
    """A run in the shape `moments eval run` writes (evals/runner.py)."""
    case = {
        "id": "complaint-hub-offline",
        "moment": "complaint",
        "passed": passed,
        "failures": [] if passed else ["warmth 0.30 < 0.50"],
        "scores": {"warmth": warmth, "empathy": 0.7, "hostility": 0.0},
    }
    other = {**case, "id": "welcome-first-hub", "passed": True, "failures": []}
    return {
        "format": 1,
        "run_id": run_id,
        "suite": "default",
        "model": "scripted",
        "judge": False,
        "started_at": started,
        "cases": [case, {**other, "scores": {"warmth": 0.9, "empathy": 0.7, "hostility": 0.0}}],
        "summary": {"warmth": warmth, "empathy": 0.7, "hostility": 0.0},
        "higher_is_worse": ["hostility"],
        "classifier_agreement": 1.0,
        "passed": 2 if passed else 1,
        "failed": 0 if passed else 1,
    }


def write_runs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # r2 sorts first by name but is the newer run: the list is by time
    for item in (
        run("r2", "2026-11-25T10:00:00+00:00", 0.3, False),
        run("r1", "2026-11-24T10:00:00+00:00", 0.8, True),
    ):
        (folder / f"{item['run_id']}.json").write_text(json.dumps(item), encoding="utf-8")
    (folder / "broken.json").write_text("{", encoding="utf-8")
    (folder / "other.json").write_text(json.dumps({"scores": {"warmth": 1}}), encoding="utf-8")


def test_eval_runs_are_listed_oldest_first_and_bad_files_are_named(
    client: TestClient, harness: Harness, runs_dir: Path
) -> None:
    auth = harness.auth("reviewer")
    empty = client.get("/v1/evals/runs", headers=auth).json()
    assert empty["runs"] == [] and empty["folders"] == [str(runs_dir)]
    write_runs(runs_dir)
    body = client.get("/v1/evals/runs", headers=auth).json()
    assert [r["run_id"] for r in body["runs"]] == ["r1", "r2"]
    latest = body["runs"][1]
    assert (latest["cases"], latest["passed"], latest["failed"]) == (2, 1, 1)
    assert latest["summary"]["warmth"] == pytest.approx(0.3)
    assert latest["model"] == "scripted" and latest["file"] == "r2.json"
    assert any(p.startswith("broken.json") for p in body["problems"])
    assert any(p.startswith("other.json") for p in body["problems"])


def test_an_eval_run_is_read_with_its_cases(
    client: TestClient, harness: Harness, runs_dir: Path
) -> None:
    write_runs(runs_dir)
    auth = harness.auth("reviewer")
    body = client.get("/v1/evals/runs/r2", headers=auth).json()
    assert body["run_id"] == "r2" and body["classifier_agreement"] == 1.0
    assert [c["id"] for c in body["results"]] == ["complaint-hub-offline", "welcome-first-hub"]
    assert body["results"][0]["failures"] == ["warmth 0.30 < 0.50"]
    missing = client.get("/v1/evals/runs/nope", headers=auth)
    assert missing.status_code == 404 and "moments eval run" in missing.json()["error"]["hint"]


def test_two_eval_runs_are_compared_as_the_cli_compares_them(
    client: TestClient, harness: Harness, runs_dir: Path
) -> None:
    from evals.compare import compare_runs

    write_runs(runs_dir)
    auth = harness.auth("reviewer")
    response = client.get("/v1/evals/compare?a=r1&b=r2", headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    expected = compare_runs(
        json.loads((runs_dir / "r1.json").read_text()),
        json.loads((runs_dir / "r2.json").read_text()),
    )
    assert body["paired_cases"] == expected["paired_cases"] == 2
    assert [r["id"] for r in body["regressed"]] == ["complaint-hub-offline"]
    assert "passed → failed" in body["regressed"][0]["why"]
    assert body["dimensions"]["warmth"]["delta"] == pytest.approx(
        expected["dimensions"]["warmth"]["delta"]
    )
    assert client.get("/v1/evals/compare?a=r1&b=zzz", headers=auth).status_code == 404
    assert client.get("/v1/evals/compare?a=r1", headers=auth).status_code == 422
