"""Publishers: how an approved reply reaches the forum.

`Publisher` is the role (`publish` + `find_published`); `DiscoursePublisher` posts to
Discourse's REST API; `RecordingPublisher` keeps replies in memory (tests, demos);
`NullPublisher` refuses (no forum configured), so drafts stay approved-but-unpublished.

Double posting is guarded twice: copilot.review claims a publication row (UNIQUE per draft)
before calling the forum, and every reply's raw ends with a hidden marker
`<!-- moments:draft-ID -->`; after any failure that may have reached the forum (a timeout
after sending, a 5xx) the topic is searched for the marker before posting again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel

from copilot.errors import PublishError
from copilot.settings import Settings
from copilot.store_records import PostRecord

log = logging.getLogger(__name__)
LATEST_POSTS = 30  # how many of a topic's newest posts are searched for a reply's marker


class PublishedRef(BaseModel):
    """Where a reply was published."""

    external_post_id: str
    url: str | None = None
    found_existing: bool = False  # True when found by its marker instead of posted


class PublishAttemptError(PublishError):
    """A publish attempt failed. `ambiguous`: the forum may have received it anyway."""

    def __init__(
        self, message: str, *, ambiguous: bool, retryable: bool, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.ambiguous = ambiguous
        self.retryable = retryable


def marker(idempotency_key: str) -> str:
    """The hidden marker appended to every published reply."""
    return f"<!-- moments:{idempotency_key} -->"


def with_marker(text: str, idempotency_key: str) -> str:
    return f"{text.rstrip()}\n\n{marker(idempotency_key)}"


@runtime_checkable
class Publisher(Protocol):
    """Posts an approved reply under the member's post."""

    name: str

    def publish(self, post: PostRecord, text: str, *, idempotency_key: str) -> PublishedRef:
        """Post `text` as a reply to `post`; raise PublishError on failure."""
        ...

    def find_published(self, post: PostRecord, *, idempotency_key: str) -> PublishedRef | None:
        """The reply already posted with this key's marker, if any."""
        ...


class NullPublisher:
    """No forum configured: every publish fails with a hint, drafts stay approved."""

    name = "none"

    def publish(self, post: PostRecord, text: str, *, idempotency_key: str) -> PublishedRef:
        raise PublishAttemptError(
            "No forum is configured, so the approved reply was not published",
            ambiguous=False,
            retryable=True,
            hint="set MOMENTS_DISCOURSE_URL and MOMENTS_DISCOURSE_API_KEY, then retry",
        )

    def find_published(self, post: PostRecord, *, idempotency_key: str) -> PublishedRef | None:
        return None


@dataclass
class RecordingPublisher:
    """Keeps published replies in memory. `fail_next(n)` makes the next n publishes fail;
    `lose_next(n)` accepts the next n but raises an ambiguous error (a timeout after send)."""

    name: str = "recording"
    published: list[tuple[PostRecord, str, str]] = field(default_factory=list)
    calls: int = 0
    _fail: int = 0
    _lose: int = 0

    def fail_next(self, n: int = 1) -> RecordingPublisher:
        self._fail = n
        return self

    def lose_next(self, n: int = 1) -> RecordingPublisher:
        self._lose = n
        return self

    def publish(self, post: PostRecord, text: str, *, idempotency_key: str) -> PublishedRef:
        self.calls += 1
        if self._fail > 0:
            self._fail -= 1
            raise PublishAttemptError(
                "forum unavailable (scripted)", ambiguous=False, retryable=True
            )
        self.published.append((post, with_marker(text, idempotency_key), idempotency_key))
        ref_id = str(len(self.published))
        if self._lose > 0:
            self._lose -= 1
            raise PublishAttemptError(
                "timed out after sending (scripted)", ambiguous=True, retryable=True
            )
        return PublishedRef(external_post_id=ref_id)

    def find_published(self, post: PostRecord, *, idempotency_key: str) -> PublishedRef | None:
        for index, (_, raw, _) in enumerate(self.published, start=1):
            if marker(idempotency_key) in raw:
                return PublishedRef(external_post_id=str(index), found_existing=True)
        return None


class DiscoursePublisher:
    """Replies through Discourse's API: POST /posts.json {topic_id, raw, reply_to_post_number}.

    Retries 429 and 5xx (honouring Retry-After, capped) and connection errors with exponential
    backoff; after an ambiguous failure it looks for the reply's marker before posting again.
    `transport` is the httpx seam tests replace."""

    name = "discourse"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_username: str = "system",
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        *,
        max_attempts: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_username = api_username
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.sleep = sleep
        self.client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={
                "Api-Key": api_key,
                "Api-Username": api_username,
                "Accept": "application/json",
            },
        )

    def close(self) -> None:
        self.client.close()

    # Publishing ----------------------------------------------------------------------------
    def publish(self, post: PostRecord, text: str, *, idempotency_key: str) -> PublishedRef:
        if not post.topic_id:
            raise PublishAttemptError(
                f"Post {post.id} has no Discourse topic id, so there is nowhere to reply",
                ambiguous=False,
                retryable=False,
                hint="only posts received from Discourse can be published there",
            )
        body: dict[str, Any] = {
            "topic_id": int(post.topic_id) if post.topic_id.isdigit() else post.topic_id,
            "raw": with_marker(text, idempotency_key),
        }
        if post.post_number:
            body["reply_to_post_number"] = post.post_number
        ambiguous = False
        last: PublishAttemptError | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                if ambiguous:
                    found = self.find_published(post, idempotency_key=idempotency_key)
                    if found is not None:
                        return found
                return self._post_once(body)
            except PublishAttemptError as exc:
                last = exc
                ambiguous = ambiguous or exc.ambiguous
                if not exc.retryable or attempt == self.max_attempts:
                    break
                delay = getattr(exc, "retry_after", None) or self.backoff * 2 ** (attempt - 1)
                log.warning(
                    "publish attempt %d failed (%s); retrying in %.1fs", attempt, exc, delay
                )
                self.sleep(min(float(delay), 30.0))
        assert last is not None
        last.ambiguous = ambiguous
        raise last

    def _post_once(self, body: dict[str, Any]) -> PublishedRef:
        try:
            response = self.client.post("/posts.json", json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise PublishAttemptError(
                f"Could not reach the forum at {self.base_url}: {exc}",
                ambiguous=False,
                retryable=True,
                hint="check MOMENTS_DISCOURSE_URL; the publication will be retried",
            ) from exc
        except httpx.HTTPError as exc:  # read timeout, reset after sending: may have posted
            raise PublishAttemptError(
                f"The forum did not answer after the reply was sent ({type(exc).__name__})",
                ambiguous=True,
                retryable=True,
            ) from exc
        if response.status_code == 429 or response.status_code >= 500:
            error = PublishAttemptError(
                f"The forum answered {response.status_code}: {response.text[:200]}",
                ambiguous=response.status_code >= 500,
                retryable=True,
            )
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                error.retry_after = float(retry_after)  # type: ignore[attr-defined]
            raise error
        if response.status_code >= 400:
            raise PublishAttemptError(
                f"The forum refused the reply ({response.status_code}): {response.text[:300]}",
                ambiguous=False,
                retryable=False,
                hint="check the API key, the API username's permissions and the topic",
            )
        try:
            data = response.json()
            post_id = str(data["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise PublishAttemptError(
                f"The forum answered {response.status_code} without a post id",
                ambiguous=True,
                retryable=True,
            ) from exc
        url = None
        if data.get("topic_slug") and data.get("topic_id") and data.get("post_number"):
            url = f"{self.base_url}/t/{data['topic_slug']}/{data['topic_id']}/{data['post_number']}"
        return PublishedRef(external_post_id=post_id, url=url)

    # Looking for a reply already posted ---------------------------------------------------
    def find_published(self, post: PostRecord, *, idempotency_key: str) -> PublishedRef | None:
        """Search the topic's posts by our API user for the marker (raw, else /posts/ID.json)."""
        if not post.topic_id:
            return None
        wanted = marker(idempotency_key)
        try:
            response = self.client.get(f"/t/{post.topic_id}.json", params={"include_raw": "true"})
            response.raise_for_status()
            stream = response.json().get("post_stream", {})
            posts = list(stream.get("posts", []))
            # A long topic's first page holds only its first posts: fetch the latest ones too.
            loaded = {p.get("id") for p in posts}
            latest = [i for i in stream.get("stream", [])[-LATEST_POSTS:] if i not in loaded]
            if latest:
                query: list[tuple[str, str | int | float | bool | None]] = [
                    ("post_ids[]", str(i)) for i in latest
                ]
                query.append(("include_raw", "true"))
                more = self.client.get(f"/t/{post.topic_id}/posts.json", params=query)
                more.raise_for_status()
                posts += more.json().get("post_stream", {}).get("posts", [])
            for item in reversed(posts):
                if item.get("username") not in (None, self.api_username):
                    continue
                raw = item.get("raw")
                if raw is None:
                    detail = self.client.get(f"/posts/{item['id']}.json")
                    detail.raise_for_status()
                    raw = detail.json().get("raw", "")
                if wanted in (raw or "") or wanted in (item.get("cooked") or ""):
                    return PublishedRef(external_post_id=str(item["id"]), found_existing=True)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise PublishAttemptError(
                f"Could not check the topic for an earlier copy of this reply: {exc}",
                ambiguous=True,
                retryable=True,
            ) from exc
        return None


def build_publisher(settings: Settings) -> Publisher:
    """Discourse when MOMENTS_DISCOURSE_URL and _API_KEY are set, else a NullPublisher."""
    if settings.discourse_url and settings.discourse_api_key:
        return DiscoursePublisher(
            settings.discourse_url,
            settings.discourse_api_key,
            settings.discourse_api_username,
        )
    return NullPublisher()
