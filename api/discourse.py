"""Discourse webhooks: signature check and payload mapping, with no I/O.

Discourse signs each delivery with `X-Discourse-Event-Signature: sha256=<hex>`, the
HMAC-SHA256 of the raw body under the webhook's secret; `verify_signature()` checks it in
constant time before anything parses the body. `post_from_payload()` maps a `post_created`
payload (exactly Discourse's shape) to `copilot.types.Post`: `raw` is preferred, `cooked` HTML
is stripped to text only when `raw` is absent.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from pydantic import ValidationError

from copilot.errors import InputError
from copilot.types import Member, Post

SIGNATURE_HEADER = "X-Discourse-Event-Signature"
EVENT_TYPE_HEADER = "X-Discourse-Event-Type"
EVENT_HEADER = "X-Discourse-Event"
EVENT_ID_HEADER = "X-Discourse-Event-Id"
INSTANCE_HEADER = "X-Discourse-Instance"

REGULAR_POST = 1  # Discourse post_type: 1 regular, 2 moderator action, 3 small action, 4 whisper


def sign(secret: str, body: bytes) -> str:
    """The header value Discourse would send for `body` (tests and benchmarks use it)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is `sha256=<hex HMAC-SHA256(secret, body)>`; constant-time."""
    if not header or not secret:
        return False
    scheme, _, given = header.strip().partition("=")
    if scheme.lower() != "sha256" or not given:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


class _TextExtractor(HTMLParser):
    BLOCKS = frozenset(
        {"p", "br", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr"}
    )
    SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and alt.startswith(":") and alt.endswith(":"):  # Discourse emoji
                self.parts.append(alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Cooked Discourse HTML → plain text, paragraphs kept as blank-line breaks."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass(frozen=True)
class DiscoursePost:
    """A `post_created` payload mapped: the Post, its revision, and whether to draft it."""

    post: Post
    revision: int
    draft: bool
    reason: str | None = None  # why it is not drafted


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def post_from_payload(
    payload: dict[str, Any], *, community_id: str, api_username: str | None = None
) -> DiscoursePost:
    """Map `{"post": {...}}` to a Post. Staff, system and non-regular posts are kept, not
    drafted. Raises `InputError` naming the field at fault."""
    data = payload.get("post")
    if not isinstance(data, dict):
        raise InputError('The payload has no "post" object.', hint="expected a post_* event body")
    raw = data.get("raw")
    cooked = data.get("cooked")
    if isinstance(raw, str) and raw.strip():
        text = raw.strip()
    elif isinstance(cooked, str) and cooked.strip():
        text = html_to_text(cooked)
    else:
        text = ""
    for name in ("id", "topic_id"):
        if not isinstance(data.get(name), int):
            raise InputError(f"post.{name}: is missing or not an integer.")
    username = _str(data.get("username"))
    roles = [role for role in ("admin", "moderator", "staff") if data.get(role) is True]
    trust_level = data.get("trust_level")
    if isinstance(trust_level, int):
        roles.append(f"trust_level_{trust_level}")
    if _str(data.get("primary_group_name")):
        roles.append(f"group:{data['primary_group_name']}")
    badges = [str(data["user_title"])] if _str(data.get("user_title")) else []
    try:
        member = Member(handle=username, name=_str(data.get("name")), roles=roles, badges=badges)
        created = data.get("created_at")
        post = Post(
            text=text or "(empty post)",
            title=_str(data.get("topic_title")),
            member=member,
            community_id=community_id,
            forum="discourse",
            forum_post_id=str(data["id"]),
            topic_id=str(data["topic_id"]),
            post_number=data.get("post_number")
            if isinstance(data.get("post_number"), int)
            else None,
            category=_str(data.get("category_slug")) or _str(data.get("category_id")),
            created_at=datetime.fromisoformat(created) if isinstance(created, str) else None,
        )
    except (ValidationError, ValueError) as exc:
        raise InputError(f"post: cannot be read ({exc}).") from None
    version = data.get("version")
    revision = version if isinstance(version, int) and version >= 1 else 1

    reason: str | None = None
    user_id = data.get("user_id")
    if data.get("staff") is True or data.get("admin") is True or data.get("moderator") is True:
        reason = "a staff post: stored, not drafted"
    elif api_username and username and username.lower() == api_username.lower():
        reason = f"posted by the API user '{api_username}' (our own reply): stored, not drafted"
    elif isinstance(user_id, int) and user_id < 0:
        reason = "a system user's post: stored, not drafted"
    elif data.get("post_type", REGULAR_POST) != REGULAR_POST:
        reason = f"post_type {data.get('post_type')} (not a regular post): stored, not drafted"
    elif data.get("hidden") is True or data.get("deleted_at") or data.get("user_deleted") is True:
        reason = "hidden or deleted: stored, not drafted"
    elif not text:
        reason = "the post has no text: stored, not drafted"
    return DiscoursePost(post=post, revision=revision, draft=reason is None, reason=reason)


def topic_summary(payload: dict[str, Any]) -> dict[str, Any]:
    """The parts of a `topic_created` payload worth keeping until its first post arrives."""
    data = payload.get("topic")
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        raise InputError('The payload has no "topic" object with an integer "id".')
    created_by = data.get("created_by") if isinstance(data.get("created_by"), dict) else {}
    return {
        "topic_id": data["id"],
        "title": data.get("title"),
        "slug": data.get("slug"),
        "category_id": data.get("category_id"),
        "archetype": data.get("archetype"),
        "created_at": data.get("created_at"),
        "created_by": created_by.get("username") if created_by else None,
    }
