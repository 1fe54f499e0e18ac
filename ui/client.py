"""A small typed client for the Moments API, the UI's only door to the data.

Every call returns the decoded JSON or raises `UIError`, whose message is ready to show with
`st.error` (the API's `{"error": {"code", "message", "hint"}}`, or a sentence saying the API
cannot be reached). Pages never see an httpx exception or a traceback.

    client = MomentsClient("http://127.0.0.1:8000", key)
    queue = client.list_drafts(status="pending")["items"]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 20.0
SLOW_TIMEOUT = 900.0  # crisis statements on the local model take minutes
DraftStatus = str  # pending | approved | rejected | superseded | published


def api_url() -> str:
    """The API's base URL: MOMENTS_API_URL, default http://127.0.0.1:8000."""
    return (os.environ.get("MOMENTS_API_URL") or DEFAULT_API_URL).rstrip("/")


class UIError(Exception):
    """An API call that did not work, said for a human (`message`, then `hint`)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "error",
        hint: str | None = None,
        status: int | None = None,
        fields: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint
        self.status = status
        self.fields = fields or []

    def __str__(self) -> str:
        text = self.message
        for field in self.fields:
            text += f"\n- {field.get('field')}: {field.get('message')}"
        if self.hint:
            text += f"\n\nNext: {self.hint}"
        return text


def unreachable(base_url: str) -> UIError:
    return UIError(
        f"Cannot reach the Moments API at {base_url} — start it with `moments serve` "
        "or `moments up`.",
        code="unreachable",
    )


def _error_from(response: httpx.Response) -> UIError:
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return UIError(
            str(detail.get("message") or f"The API answered {response.status_code}."),
            code=str(detail.get("code") or "error"),
            hint=detail.get("hint"),
            status=response.status_code,
            fields=detail.get("fields") or None,
        )
    if isinstance(body, dict) and "detail" in body:  # FastAPI's default shape
        return UIError(str(body["detail"]), status=response.status_code)
    return UIError(
        f"The API answered {response.status_code} {response.reason_phrase}.",
        status=response.status_code,
    )


class MomentsClient:
    """One API key talking to one Moments API. `transport` is the seam tests may replace."""

    def __init__(
        self,
        base_url: str | None = None,
        key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or api_url()).rstrip("/")
        self.key = key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    # Plumbing --------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one request; the decoded JSON body, or `UIError`."""
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = self._http.request(
                method,
                path,
                params=clean or None,
                json=json,
                files=files,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException:
            raise UIError(
                f"The Moments API at {self.base_url} did not answer in time.",
                code="timeout",
                hint="it may be busy with the model; try again in a moment",
            ) from None
        except httpx.HTTPError:
            raise unreachable(self.base_url) from None
        if response.status_code >= 400:
            raise _error_from(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise UIError(
                f"The API at {self.base_url} answered something that is not JSON.",
                code="bad_response",
                hint="is MOMENTS_API_URL pointing at the Moments API?",
            ) from None

    def _object(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        """`request` for the calls whose answer is a JSON object, typed as one for the pages."""
        data: dict[str, Any] = self.request(method, path, **options)
        return data

    # Health and identity ---------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._object("GET", "/v1/health")

    def me(self) -> dict[str, Any]:
        """The key this client uses: `key_id`, `name`, `role` (`GET /v1/me`)."""
        return self._object("GET", "/v1/me")

    def sign_in(self) -> dict[str, Any]:
        """Check the key (`GET /v1/me`); who it is. A plugin key is refused with a 403-like
        `UIError`: it cannot review."""
        me = self.me()  # 401 for a bad or revoked key
        if me.get("role") not in ("reviewer", "admin"):
            raise UIError(
                f"The key '{me.get('name')}' is a {me.get('role')} key; reviewing needs a "
                "reviewer or admin key.",
                code="forbidden",
                status=403,
                hint="ask an admin: `moments keys create --role reviewer`",
            )
        return me

    # Drafts ----------------------------------------------------------------------------------

    def counts(self, *, status: str = "pending", community: str | None = None) -> dict[str, Any]:
        return self._object(
            "GET", "/v1/drafts/counts", params={"status": status, "community": community}
        )

    def list_drafts(
        self,
        *,
        status: str = "pending",
        moment: str | None = None,
        urgency: str | None = None,
        community: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        data = self.request(
            "GET",
            "/v1/drafts",
            params={
                "status": status,
                "moment": moment,
                "urgency": urgency,
                "community": community,
                "limit": limit,
                "offset": offset,
            },
        )
        items: list[dict[str, Any]] = data["items"]
        return items

    def get_draft(self, draft_id: int) -> dict[str, Any]:
        return self._object("GET", f"/v1/drafts/{draft_id}")

    def approve(
        self, draft_id: int, *, text: str | None = None, expected_version: int | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"expected_version": expected_version}
        if text is not None:
            body["text"] = text
        return self._object("POST", f"/v1/drafts/{draft_id}/approve", json=body)

    def edit(
        self, draft_id: int, text: str, *, expected_version: int | None = None
    ) -> dict[str, Any]:
        return self._object(
            "POST",
            f"/v1/drafts/{draft_id}/edit",
            json={"text": text, "expected_version": expected_version},
        )

    def reject(
        self, draft_id: int, reason: str, *, expected_version: int | None = None
    ) -> dict[str, Any]:
        return self._object(
            "POST",
            f"/v1/drafts/{draft_id}/reject",
            json={"reason": reason, "expected_version": expected_version},
        )

    def regenerate(self, draft_id: int, instruction: str | None = None) -> dict[str, Any]:
        return self._object(
            "POST", f"/v1/drafts/{draft_id}/regenerate", json={"instruction": instruction or None}
        )

    def publish(self, draft_id: int) -> dict[str, Any]:
        return self._object("POST", f"/v1/drafts/{draft_id}/publish", timeout=90.0)

    def publications(self, draft_id: int) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.request(
            "GET", "/v1/publications", params={"draft_id": draft_id}
        )
        return data

    # Posts and jobs --------------------------------------------------------------------------

    def submit_post(self, post: Mapping[str, Any]) -> dict[str, Any]:
        return self._object("POST", "/v1/posts", json=dict(post))

    def get_job(self, job_id: int) -> dict[str, Any]:
        return self._object("GET", f"/v1/jobs/{job_id}")

    def stream_draft(
        self, post: Mapping[str, Any], options: Mapping[str, Any] | None = None
    ) -> Iterator[tuple[str, Any]]:
        """Draft interactively (`POST /v1/drafts/stream`, server-sent events): yields
        ("token", text) pieces, then ("draft", the final Draft as JSON). Nothing is saved.
        An `error` event, or a failed request, raises `UIError`."""
        body = {"post": dict(post), "options": dict(options or {})}
        try:
            with self._http.stream(
                "POST", "/v1/drafts/stream", json=body, timeout=SLOW_TIMEOUT
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_from(response)
                event, data = "message", []
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif not line and data:
                        payload = json.loads("\n".join(data))
                        if event == "error":
                            raise UIError(
                                str(payload.get("message") or "Drafting failed."),
                                code=str(payload.get("code") or "error"),
                                hint=payload.get("hint"),
                            )
                        yield event, payload.get("text", "") if event == "token" else payload
                        event, data = "message", []
        except httpx.TimeoutException:
            raise UIError(
                f"The Moments API at {self.base_url} stopped answering while drafting.",
                code="timeout",
            ) from None
        except httpx.HTTPError:
            raise unreachable(self.base_url) from None

    # Members ---------------------------------------------------------------------------------

    def member(
        self, handle: str, *, community: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        """A member's profile, earlier posts (with their drafts' status) and approved replies."""
        return self._object(
            "GET",
            f"/v1/members/{quote(handle, safe='')}",
            params={"community": community, "limit": limit},
        )

    # Tone ------------------------------------------------------------------------------------

    def score_tone(
        self,
        text: str,
        *,
        post: str | None = None,
        member_name: str | None = None,
        moment: str | None = None,
    ) -> dict[str, Any]:
        return self._object(
            "POST",
            "/v1/tone",
            json={"text": text, "post": post, "member_name": member_name, "moment": moment},
        )

    # Crisis ----------------------------------------------------------------------------------

    def create_incident(
        self,
        facts: Mapping[str, Any],
        *,
        incident_id: str | None = None,
        channels: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"facts": dict(facts)}
        if incident_id:
            body["incident_id"] = incident_id
        if channels:
            body["channels"] = list(channels)
        return self._object("POST", "/v1/incidents", json=body, timeout=SLOW_TIMEOUT)

    def list_incidents(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """Incidents, most recently changed first (id, title, stage, pending, ...)."""
        data: list[dict[str, Any]] = self.request("GET", "/v1/incidents", params={"limit": limit})
        return data

    def get_incident(self, incident_id: str) -> dict[str, Any]:
        return self._object("GET", f"/v1/incidents/{incident_id}")

    def update_incident(
        self, incident_id: str, stage: str, facts: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._object(
            "POST",
            f"/v1/incidents/{incident_id}/updates",
            json={"stage": stage, "facts": dict(facts)},
            timeout=SLOW_TIMEOUT,
        )

    def approve_statement(
        self, incident_id: str, channel: str, text: str | None = None
    ) -> dict[str, Any]:
        return self._object(
            "POST",
            f"/v1/incidents/{incident_id}/statements/{channel}/approve",
            json={"text": text} if text else None,
        )

    def reject_statement(self, incident_id: str, channel: str, reason: str) -> dict[str, Any]:
        return self._object(
            "POST",
            f"/v1/incidents/{incident_id}/statements/{channel}/reject",
            json={"reason": reason},
        )

    # Knowledge -------------------------------------------------------------------------------

    def upload_knowledge(self, files: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
        parts = [("files", (name, content)) for name, content in files]
        return self._object("POST", "/v1/knowledge", files=parts, timeout=SLOW_TIMEOUT)

    def sources(self) -> dict[str, Any]:
        return self._object("GET", "/v1/knowledge/sources", timeout=60.0)

    def source(self, source: str, *, community: str | None = None) -> dict[str, Any]:
        """A source's full text: its chunks in document order, with headings and ids."""
        return self._object(
            "GET",
            f"/v1/knowledge/sources/{quote(source, safe='/')}",
            params={"community": community},
            timeout=60.0,
        )

    def delete_source(self, source: str) -> dict[str, Any]:
        return self._object("DELETE", f"/v1/knowledge/sources/{quote(source, safe='/')}")

    def search(
        self, query: str, *, k: int = 5, kind: str | None = None, moment: str | None = None
    ) -> list[dict[str, Any]]:
        data = self.request(
            "GET",
            "/v1/knowledge/search",
            params={"q": query, "k": k, "kind": kind, "moment": moment},
            timeout=60.0,
        )
        results: list[dict[str, Any]] = data["results"]
        return results

    # Evals -----------------------------------------------------------------------------------

    def eval_runs(self) -> dict[str, Any]:
        """`runs` (summaries, oldest first), `problems` (files skipped) and `folders`."""
        return self._object("GET", "/v1/evals/runs", timeout=60.0)

    def eval_run(self, run_id: str) -> dict[str, Any]:
        return self._object("GET", f"/v1/evals/runs/{quote(run_id, safe='')}", timeout=60.0)

    def compare_runs(self, baseline: str, candidate: str) -> dict[str, Any]:
        """`moments eval compare` over HTTP: dimensions with intervals, regressed, improved."""
        return self._object(
            "GET", "/v1/evals/compare", params={"a": baseline, "b": candidate}, timeout=60.0
        )
