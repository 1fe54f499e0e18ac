"""Who may do what: 401 without or with a bad key, 403 for a role that may not, and the
limits that apply per key (rate) and per request (body size, validation)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.testing import Harness, build_harness

# (method, path, the least role allowed)
MATRIX: list[tuple[str, str, str]] = [
    ("GET", "/v1/metrics", "reviewer"),
    ("POST", "/v1/posts", "plugin"),
    ("GET", "/v1/jobs/1", "plugin"),
    ("GET", "/v1/drafts", "plugin"),
    ("GET", "/v1/drafts/1", "plugin"),
    ("GET", "/v1/publications?draft_id=1", "plugin"),
    ("GET", "/v1/drafts/counts", "reviewer"),
    ("POST", "/v1/drafts/1/approve", "reviewer"),
    ("POST", "/v1/drafts/1/edit", "reviewer"),
    ("POST", "/v1/drafts/1/reject", "reviewer"),
    ("POST", "/v1/drafts/1/regenerate", "reviewer"),
    ("POST", "/v1/drafts/1/publish", "reviewer"),
    ("POST", "/v1/drafts/stream", "reviewer"),
    ("POST", "/v1/incidents", "reviewer"),
    ("GET", "/v1/incidents/inc-1", "reviewer"),
    ("POST", "/v1/incidents/inc-1/statements/forum/approve", "reviewer"),
    ("POST", "/v1/incidents/inc-1/updates", "reviewer"),
    ("GET", "/v1/knowledge/sources", "reviewer"),
    ("GET", "/v1/knowledge/search?q=refund", "reviewer"),
    ("POST", "/v1/knowledge", "admin"),
    ("DELETE", "/v1/knowledge/sources/guidelines/refunds.md", "admin"),
    ("POST", "/v1/tone", "plugin"),
    ("POST", "/v1/moments", "plugin"),
    ("POST", "/v1/keys", "admin"),
    ("GET", "/v1/keys", "admin"),
    ("DELETE", "/v1/keys/999", "admin"),
]
RANK = {"plugin": 0, "reviewer": 1, "admin": 2}


class _NoIndex:
    """Stands in for the index: the matrix only checks who gets past authentication."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError("the index is not used by the auth matrix")


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """One app for the module: the matrix requests change nothing (ids do not exist)."""
    from copilot.llm.fake import FakeChatModel

    folder = tmp_path_factory.mktemp("auth")
    h = build_harness(
        folder, model=FakeChatModel(default="ok"), index=_NoIndex(), rate_limit_per_minute=100_000
    )
    yield h
    h.store.close()


@pytest.fixture(scope="module")
def client(harness: Harness) -> Iterator[TestClient]:
    with TestClient(harness.app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(("method", "path", "least"), MATRIX)
def test_without_a_key_is_401_saying_how_to_get_one(
    client: TestClient, method: str, path: str, least: str
) -> None:
    response = client.request(method, path, json={})
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert "moments keys create --role reviewer" in error["hint"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "least"), MATRIX[:6])
def test_an_unknown_key_is_401(client: TestClient, method: str, path: str, least: str) -> None:
    for headers in ({"Authorization": "Bearer mk_not-a-real-key"}, {"X-API-Key": "nope"}):
        response = client.request(method, path, json={}, headers=headers)
        assert response.status_code == 401
        assert "not valid" in response.json()["error"]["message"]


@pytest.mark.parametrize(("method", "path", "least"), MATRIX)
def test_each_role_gets_403_below_and_passes_at_or_above(
    client: TestClient, harness: Harness, method: str, path: str, least: str
) -> None:
    for role, rank in RANK.items():
        response = client.request(method, path, json={}, headers=harness.auth(role))
        if rank < RANK[least]:
            assert response.status_code == 403, (role, response.text)
            error = response.json()["error"]
            assert error["code"] == "forbidden" and f"'{role}'" in error["message"]
            assert f"--role {least}" in error["hint"]
        else:
            assert response.status_code not in (401, 403), (role, response.text)


def test_x_api_key_header_works_like_bearer(client: TestClient, harness: Harness) -> None:
    response = client.get("/v1/drafts", headers={"X-API-Key": harness.keys["plugin"]})
    assert response.status_code == 200


def test_health_and_ready_need_no_key(client: TestClient) -> None:
    assert client.get("/v1/health").json()["status"] == "ok"
    assert client.head("/v1/health").status_code == 200
    assert client.get("/v1/ready").status_code in (200, 503)


def test_plugin_cannot_approve_even_with_a_valid_body(client: TestClient, harness: Harness) -> None:
    response = client.post(
        "/v1/drafts/1/approve", json={"text": "fine"}, headers=harness.auth("plugin")
    )
    assert response.status_code == 403


def test_revoked_key_stops_working_at_once(client: TestClient, harness: Harness) -> None:
    created = client.post(
        "/v1/keys", json={"role": "reviewer", "name": "Maya Okafor"}, headers=harness.auth("admin")
    )
    assert created.status_code == 201
    body = created.json()
    plaintext, key_id = body["plaintext"], body["key"]["id"]
    assert body["key"]["prefix"] and plaintext.startswith(body["key"]["prefix"])
    mine = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/v1/drafts/counts", headers=mine).status_code == 200
    listed = client.get("/v1/keys", headers=harness.auth("admin")).json()
    assert "Maya Okafor" in [k["name"] for k in listed]
    assert all("plaintext" not in k for k in listed)
    assert client.delete(f"/v1/keys/{key_id}", headers=harness.auth("admin")).status_code == 200
    assert client.get("/v1/drafts/counts", headers=mine).status_code == 401


def test_rate_limit_is_per_key_with_retry_after(tmp_path: Path) -> None:
    h = build_harness(tmp_path, rate_limit_per_minute=3)
    with TestClient(h.app) as client:
        statuses = [
            client.get("/v1/drafts", headers=h.auth("reviewer")).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/v1/drafts", headers=h.auth("reviewer"))
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert "3 a minute" in limited.json()["error"]["message"]
        # another key has its own bucket
        assert client.get("/v1/drafts", headers=h.auth("admin")).status_code == 200
    h.store.close()


def test_validation_error_names_the_field(client: TestClient, harness: Harness) -> None:
    response = client.post(
        "/v1/posts",
        json={"text": "Hello!", "member": {"handle": "sam", "joined_at": "last spring"}},
        headers=harness.auth("plugin"),
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [f["field"] for f in error["fields"]] == ["member.joined_at"]
    assert "member.joined_at" in error["message"]


def test_missing_field_and_list_items_are_named(client: TestClient, harness: Harness) -> None:
    response = client.post(
        "/v1/posts",
        json={"title": "x", "thread": [{"author": "a"}]},
        headers=harness.auth("plugin"),
    )
    fields = {f["field"] for f in response.json()["error"]["fields"]}
    assert fields == {"text", "thread[0].text"}


def test_malformed_json_is_400(client: TestClient, harness: Harness) -> None:
    response = client.post(
        "/v1/posts",
        content=b'{"text": "hi",',
        headers={**harness.auth("plugin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_oversized_body_is_413_before_auth_work(tmp_path: Path) -> None:
    h = build_harness(tmp_path, max_body_bytes=2048)
    with TestClient(h.app) as client:
        response = client.post("/v1/posts", json={"text": "z" * 5000}, headers=h.auth("plugin"))
        assert response.status_code == 413
        assert "2048 bytes" in response.json()["error"]["message"]
    h.store.close()


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_guessing_keys_is_rate_limited_by_address(tmp_path: Path) -> None:
    h = build_harness(tmp_path, rate_limit_per_minute=2)
    with TestClient(h.app) as client:
        guesses = [
            client.get("/v1/drafts", headers={"X-API-Key": f"mk_guess{i}"}).status_code
            for i in range(3)
        ]
        assert guesses == [401, 401, 429]
        # a valid key is not held back by someone else's guessing
        assert client.get("/v1/drafts", headers=h.auth("reviewer")).status_code == 200
    h.store.close()
