"""`Store`: every database operation Moments performs, in short transactions.

See the PUBLIC API block in copilot/store.py. Records returned are detached pydantic models
(copilot.store_records); ORM rows never leave this module (and copilot.review).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    case,
    create_engine,
    event,
    func,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from copilot.errors import ConflictError, InputError, MomentsError, NotFoundError, StoreError
from copilot.settings import Settings, get_settings
from copilot.store_models import (
    ApiKeyRow,
    AuditRow,
    Community,
    DraftRow,
    DraftVersionRow,
    JobRow,
    MemberRow,
    PostRow,
    PublicationRow,
    ReviewRow,
    StatementRow,
)
from copilot.store_records import (
    ROLES,
    ApiKeyRecord,
    AuditRecord,
    DraftRecord,
    DraftSummary,
    DraftVersionRecord,
    JobKind,
    JobRecord,
    MemberRecord,
    PostRecord,
    PublicationRecord,
    QueueCounts,
    ReviewRecord,
    Role,
    StatementRecord,
    SubmitResult,
    from_attributes,
    utcnow,
)
from copilot.types import (
    URGENCY_RANK,
    Draft,
    IncidentFacts,
    Post,
    StatementSet,
    ThreadMessage,
    Urgency,
    Violation,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_MAX_ATTEMPTS = 3
KEY_PREFIX = "mk_"


# Row → record ------------------------------------------------------------------------------


def member_record(row: MemberRow) -> MemberRecord:
    return from_attributes(
        MemberRecord, row, roles=list(row.roles or []), badges=list(row.badges or [])
    )


def post_record(row: PostRow, member: MemberRow | None) -> PostRecord:
    return from_attributes(
        PostRecord,
        row,
        member=member_record(member) if member else None,
        forum=row.forum or None,
        forum_post_id=row.forum_post_id or None,
        thread=[ThreadMessage.model_validate(m) for m in row.thread or []],
    )


def job_record(row: JobRow, result_draft_id: int | None = None) -> JobRecord:
    return from_attributes(JobRecord, row, result_draft_id=result_draft_id)


def publication_record(row: PublicationRow) -> PublicationRecord:
    return from_attributes(PublicationRecord, row)


def api_key_record(row: ApiKeyRow) -> ApiKeyRecord:
    return from_attributes(ApiKeyRecord, row)


def statement_record(row: StatementRow) -> StatementRecord:
    return from_attributes(
        StatementRecord,
        row,
        violations=[Violation.model_validate(v) for v in row.violations or []],
        facts=IncidentFacts.model_validate(row.facts) if row.facts else None,
    )


def load_draft(payload: dict[str, Any]) -> Draft:
    """The stored Draft JSON; keys a newer/older `Draft` no longer knows are dropped."""
    try:
        return Draft.model_validate(payload)
    except ValidationError:
        known = {k: v for k, v in payload.items() if k in Draft.model_fields}
        return Draft.model_validate(known)


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def urgency_rank(value: str) -> int:
    try:
        return URGENCY_RANK[Urgency(value)]
    except ValueError:
        return 1


def check_lengths(**fields: tuple[str | None, int]) -> None:
    """Refuse values longer than their column (PostgreSQL would fail, SQLite would not)."""
    for name, (value, limit) in fields.items():
        if value is not None and len(value) > limit:
            raise InputError(
                f"{name.replace('_', ' ')} is {len(value)} characters long; the limit is {limit}."
            )


def check_post(post: Post, source: str) -> None:
    """Refuse a post the posts table cannot hold (InputError naming the field)."""
    if not post.text.strip():
        raise InputError("The post is empty; send the member's text in `text`.")
    check_lengths(
        source=(source, 50),
        community_id=(post.community_id, 100),
        forum=(post.forum, 50),
        forum_post_id=(post.forum_post_id, 100),
        topic_id=(post.topic_id, 100),
        category=(post.category, 200),
        member_handle=(post.member.handle, 200),
        member_name=(post.member.name, 200),
    )


DeliveryKey = tuple[str, str, str, int]  # (community_id, forum, forum_post_id, revision)


@dataclass(frozen=True)
class Submission:
    """One post for `Store.submit_posts`: `draft=True` records and queues it (submit_post),
    `draft=False` only records it (record_post: staff posts kept as thread context)."""

    post: Post
    source: str
    revision: int = 1
    draft: bool = True

    @property
    def key(self) -> DeliveryKey | None:
        if self.post.forum_post_id is None:
            return None
        return (
            self.post.community_id,
            self.post.forum or "",
            self.post.forum_post_id,
            self.revision,
        )


def _batch_statements() -> dict[str, Any]:
    """Statements of the batch write path, built once (building a statement costs about as
    much CPU as executing it on SQLite); lists go in through expanding bind parameters."""
    post_key = tuple_(PostRow.community_id, PostRow.forum, PostRow.forum_post_id, PostRow.revision)
    first_job = (
        select(func.min(JobRow.id))
        .where(JobRow.post_id == PostRow.id, JobRow.kind == "draft")
        .correlate(PostRow)
        .scalar_subquery()
    )
    posts, jobs = cast(Table, PostRow.__table__), cast(Table, JobRow.__table__)
    audit = cast(Table, AuditRow.__table__)
    return {
        "existing": select(
            PostRow.community_id,
            PostRow.forum,
            PostRow.forum_post_id,
            PostRow.revision,
            PostRow.id,
            first_job,
        ).where(post_key.in_(bindparam("keys", expanding=True))),
        "members": select(MemberRow.community_id, MemberRow.handle, MemberRow.id).where(
            tuple_(MemberRow.community_id, MemberRow.handle).in_(bindparam("keys", expanding=True))
        ),
        "insert_posts": posts.insert().returning(posts.c.id, sort_by_parameter_order=True),
        "insert_jobs": jobs.insert().returning(jobs.c.id, sort_by_parameter_order=True),
        "insert_audit": audit.insert(),
    }


# Engine ------------------------------------------------------------------------------------


def _sqlite_engine(url: str) -> Engine:
    database = url.split("///", 1)[1] if "///" in url else ""
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take the write lock up front: no deadlock-prone lock upgrades, and
        # claim/approve are serialised (SQLite's answer to FOR UPDATE).
        write = connection.get_execution_options().get("moments_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    raise StoreError(
        f"Unsupported database URL {url.split(':', 1)[0]}:...",
        hint="use sqlite:///path/moments.db or postgresql+psycopg://user@host:5432/db",
    )


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision (safe to run from several processes)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    write_engine = engine.execution_options(moments_write=True)
    try:
        with write_engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(827361)"))
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise StoreError(
            f"Could not migrate the database at {engine.url.render_as_string()}: {exc}",
            hint="check MOMENTS_DATABASE_URL and that the database is reachable",
        ) from exc


# Store -------------------------------------------------------------------------------------


class Store:
    """A handle on the database. Thread-safe: every method opens its own short session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(
            engine.execution_options(moments_write=True), expire_on_commit=False
        )
        self._batch = _batch_statements()
        self._known_communities: set[str] = set()  # rows never deleted: skip re-inserting

    # Sessions ------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE on SQLite); commits on success."""
        try:
            with self._write.begin() as session:
                yield session
        except IntegrityError as exc:
            raise ConflictError(
                f"Another request changed the same record at the same time ({exc.orig})",
                hint="reload and try again",
            ) from exc
        except OperationalError as exc:
            raise StoreError(
                f"The database failed during a write: {exc.orig}",
                hint="retry; if it persists check the database is reachable and not full",
            ) from exc

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session."""
        with self._read() as session:
            yield session

    def _insert(self, session: Session) -> Any:
        return postgresql.insert if self.dialect == "postgresql" else sqlite.insert

    # Posts ---------------------------------------------------------------------------------
    def _ensure_community(self, session: Session, community_id: str) -> None:
        if session.get(Community, community_id) is None:
            stmt = self._insert(session)(Community).values(id=community_id, created_at=utcnow())
            session.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))

    def _upsert_member(self, session: Session, post: Post) -> int | None:
        member = post.member
        if not member.handle:
            return None
        key = (MemberRow.community_id == post.community_id, MemberRow.handle == member.handle)
        row = session.scalars(select(MemberRow).where(*key)).first()
        if row is None:
            stmt = self._insert(session)(MemberRow).values(
                community_id=post.community_id,
                handle=member.handle,
                name=member.name,
                joined_at=member.joined_at,
                post_count=member.post_count,
                roles=list(member.roles),
                badges=list(member.badges),
                updated_at=utcnow(),
            )
            session.execute(stmt.on_conflict_do_nothing(index_elements=["community_id", "handle"]))
            row = session.scalars(select(MemberRow).where(*key)).one()
            return row.id
        if member.name:
            row.name = member.name
        if member.joined_at:
            row.joined_at = member.joined_at
        if member.post_count is not None:
            row.post_count = member.post_count
        if member.roles:
            row.roles = list(member.roles)
        if member.badges:
            row.badges = list(member.badges)
        row.updated_at = utcnow()
        return row.id

    def _record_post(
        self, session: Session, post: Post, source: str, revision: int
    ) -> tuple[int, bool]:
        check_post(post, source)
        self._ensure_community(session, post.community_id)
        member_id = self._upsert_member(session, post)
        forum = post.forum or ""
        values: dict[str, Any] = {
            "community_id": post.community_id,
            "member_id": member_id,
            "source": source,
            "forum": forum,
            "forum_post_id": post.forum_post_id,
            "topic_id": post.topic_id,
            "post_number": post.post_number,
            "revision": revision,
            "title": post.title,
            "text": post.text,
            "category": post.category,
            "thread": [m.model_dump(mode="json") for m in post.thread],
            "created_at": post.created_at,
            "received_at": utcnow(),
        }
        if post.forum_post_id is None:
            row = PostRow(**values)
            session.add(row)
            session.flush()
            return row.id, True
        stmt = (
            self._insert(session)(PostRow)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=["community_id", "forum", "forum_post_id", "revision"]
            )
            .returning(PostRow.id)
        )
        new_id = session.execute(stmt).scalar()
        if new_id is not None:
            return int(new_id), True
        existing = session.scalars(
            select(PostRow.id).where(
                PostRow.community_id == post.community_id,
                PostRow.forum == forum,
                PostRow.forum_post_id == post.forum_post_id,
                PostRow.revision == revision,
            )
        ).one()
        return int(existing), False

    def record_post(self, post: Post, *, source: str, revision: int = 1) -> tuple[int, bool]:
        """Record a member's post; a redelivery returns (existing id, False) and queues nothing."""
        with self.transaction() as session:
            post_id, created = self._record_post(session, post, source, revision)
            if created:
                self._audit(session, source, "post.received", "post", post_id, {})
            return post_id, created

    def _enqueue(
        self,
        session: Session,
        post_id: int,
        kind: JobKind,
        instruction: str | None,
        draft_id: int | None,
    ) -> int:
        if kind not in ("draft", "regenerate", "learn"):
            raise InputError(f"Unknown job kind {kind!r}; use draft, regenerate or learn.")
        now = utcnow()
        values = {
            "post_id": post_id,
            "kind": kind,
            "instruction": instruction,
            "draft_id": draft_id,
            "status": "queued",
            "attempts": 0,
            "max_attempts": DEFAULT_MAX_ATTEMPTS,
            "created_at": now,
            "updated_at": now,
        }
        stmt = self._insert(session)(JobRow).values(**values)
        if kind == "draft":
            stmt = stmt.on_conflict_do_nothing(
                index_elements=["post_id"],
                index_where=text("kind = 'draft' AND status IN ('queued', 'running')"),
            )
        new_id = session.execute(stmt.returning(JobRow.id)).scalar()
        if new_id is not None:
            return int(new_id)
        live = session.scalars(
            select(JobRow.id).where(
                JobRow.post_id == post_id,
                JobRow.kind == "draft",
                JobRow.status.in_(("queued", "running")),
            )
        ).one()
        return int(live)

    def enqueue_job(
        self,
        post_id: int,
        *,
        kind: JobKind = "draft",
        instruction: str | None = None,
        draft_id: int | None = None,
    ) -> int:
        """Queue a job; returns its id. A second live draft job for a post returns the first."""
        with self.transaction() as session:
            if session.get(PostRow, post_id) is None:
                raise NotFoundError(f"Post {post_id} does not exist; record it first.")
            return self._enqueue(session, post_id, kind, instruction, draft_id)

    def submit_post(self, post: Post, *, source: str, revision: int = 1) -> SubmitResult:
        """Record the post and queue its draft job in one transaction (webhooks call this).

        A redelivery of a committed post is answered from a plain read, without taking the
        write lock (SQLite) or burning a sequence value (PostgreSQL)."""
        check_post(post, source)
        key = Submission(post, source, revision).key
        if key is not None:
            with self.reading() as session:
                found = self._existing(session, [key])
            if key in found:
                stored_id, stored_job = found[key]
                return SubmitResult(post_id=stored_id, job_id=stored_job, duplicate=True)
        with self.transaction() as session:
            post_id, created = self._record_post(session, post, source, revision)
            if created:
                job_id: int | None = self._enqueue(session, post_id, "draft", None, None)
                self._audit(session, source, "post.received", "post", post_id, {"job": job_id})
            else:
                job_id = session.scalars(
                    select(JobRow.id)
                    .where(JobRow.post_id == post_id, JobRow.kind == "draft")
                    .order_by(JobRow.id)
                    .limit(1)
                ).first()
            return SubmitResult(post_id=post_id, job_id=job_id, duplicate=not created)

    def submit_posts(self, batch: Sequence[Submission]) -> list[SubmitResult | Exception]:
        """Record (and, for `draft=True`, queue) many posts in ONE transaction; one result per
        item, in order: a SubmitResult, or the exception that item alone raised.

        The same as calling submit_post / record_post for each item in turn: a post already
        stored, or an earlier item of the batch with the same (community, forum, post id,
        revision), is a duplicate with the first one's ids. Items that fail validation get
        their InputError and stay out of the transaction. If the transaction fails as a whole
        (a concurrent writer took a key, the database hiccupped), it is rolled back and every
        item is retried in its own transaction, so one bad item cannot fail the others.
        Nothing is returned before it is committed."""
        results: list[SubmitResult | Exception | None] = [None] * len(batch)
        valid: list[int] = []
        for i, item in enumerate(batch):
            try:
                check_post(item.post, item.source)
            except InputError as exc:
                results[i] = exc
            else:
                valid.append(i)
        if valid:
            try:
                with self.transaction() as session:
                    done = self._submit_many(session, [batch[i] for i in valid])
                self._known_communities.update(batch[i].post.community_id for i in valid)
                for i, result in zip(valid, done, strict=True):
                    results[i] = result
            except Exception:  # noqa: BLE001 - retried one by one below, each with its own error
                for i in valid:
                    results[i] = self._submit_one(batch[i])
        return [r if r is not None else StoreError("internal: no result") for r in results]

    def _submit_one(self, item: Submission) -> SubmitResult | Exception:
        try:
            if item.draft:
                return self.submit_post(item.post, source=item.source, revision=item.revision)
            post_id, created = self.record_post(
                item.post, source=item.source, revision=item.revision
            )
            return SubmitResult(post_id=post_id, job_id=None, duplicate=not created)
        except (MomentsError, SQLAlchemyError) as exc:
            return exc

    def _existing(
        self, session: Session, keys: Sequence[DeliveryKey]
    ) -> dict[DeliveryKey, tuple[int, int | None]]:
        """Stored posts with these delivery keys → (post id, its first draft job id or None)."""
        if not keys:
            return {}
        rows = session.execute(self._batch["existing"], {"keys": list(dict.fromkeys(keys))}).all()
        return {
            (c, f or "", str(p), int(r)): (int(pid), None if job is None else int(job))
            for c, f, p, r, pid, job in rows
        }

    def _member_ids(self, session: Session, posts: Sequence[Post]) -> dict[tuple[str, str], int]:
        """Upsert the members of these posts (in order, as _upsert_member would one by one);
        returns (community_id, handle) → member id. A few statements for the whole batch."""
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        first_seen: dict[tuple[str, str], dict[str, Any]] = {}
        for post in posts:
            member = post.member
            if not member.handle:
                continue
            key = (post.community_id, member.handle)
            if key not in first_seen:
                first_seen[key] = {
                    "name": member.name,
                    "joined_at": member.joined_at,
                    "post_count": member.post_count,
                    "roles": list(member.roles),
                    "badges": list(member.badges),
                }
            update_ = merged.setdefault(key, {})
            if member.name:
                update_["name"] = member.name
            if member.joined_at:
                update_["joined_at"] = member.joined_at
            if member.post_count is not None:
                update_["post_count"] = member.post_count
            if member.roles:
                update_["roles"] = list(member.roles)
            if member.badges:
                update_["badges"] = list(member.badges)
        if not merged:
            return {}
        lookup, wanted = self._batch["members"], {"keys": list(merged)}
        ids = {(c, h): int(i) for c, h, i in session.execute(lookup, wanted).all()}
        now = utcnow()
        missing = sorted(key for key in merged if key not in ids)
        if missing:
            rows = [
                {
                    "community_id": c,
                    "handle": h,
                    **first_seen[(c, h)],
                    **merged[(c, h)],
                    "updated_at": now,
                }
                for c, h in missing
            ]
            stmt = self._insert(session)(MemberRow).on_conflict_do_nothing(
                index_elements=["community_id", "handle"]
            )
            session.execute(stmt, rows)
            ids = {(c, h): int(i) for c, h, i in session.execute(lookup, wanted).all()}
        existing = [key for key in merged if key not in missing]
        if existing:
            session.execute(
                update(MemberRow),
                [{"id": ids[key], **merged[key], "updated_at": now} for key in existing],
            )
        return ids

    def _submit_many(self, session: Session, items: Sequence[Submission]) -> list[SubmitResult]:
        """The batch inside one open write transaction; raises on any failure."""
        keys = [item.key for item in items]
        stored = self._existing(session, [k for k in keys if k is not None])
        fresh: list[int] = []  # positions of items that create a post
        first_of: dict[DeliveryKey, int] = {}
        for i, key in enumerate(keys):
            if key is None:
                fresh.append(i)
            elif key not in stored and key not in first_of:
                first_of[key] = i
                fresh.append(i)
        # Insert in key order: two processes writing overlapping batches on PostgreSQL then
        # take the unique-index locks in the same order instead of deadlocking.
        fresh.sort(key=lambda i: keys[i] or ("", "", "", 0))
        post_ids: dict[int, int] = {}
        job_ids: dict[int, int] = {}
        if fresh:
            now = utcnow()
            communities = [
                c
                for c in dict.fromkeys(items[i].post.community_id for i in fresh)
                if c not in self._known_communities
            ]
            if communities:
                session.execute(
                    self._insert(session)(Community).on_conflict_do_nothing(index_elements=["id"]),
                    [{"id": c, "created_at": now} for c in communities],
                )
            members = self._member_ids(session, [items[i].post for i in fresh])
            rows: list[dict[str, Any]] = []
            for i in fresh:
                item, post = items[i], items[i].post
                rows.append(
                    {
                        "community_id": post.community_id,
                        "member_id": members.get((post.community_id, post.member.handle or "")),
                        "source": item.source,
                        "forum": post.forum or "",
                        "forum_post_id": post.forum_post_id,
                        "topic_id": post.topic_id,
                        "post_number": post.post_number,
                        "revision": item.revision,
                        "title": post.title,
                        "text": post.text,
                        "category": post.category,
                        "thread": [m.model_dump(mode="json") for m in post.thread],
                        "created_at": post.created_at,
                        "received_at": now,
                    }
                )
            new_ids = session.scalars(
                self._batch["insert_posts"],
                rows,
            ).all()
            post_ids = {i: int(pid) for i, pid in zip(fresh, new_ids, strict=True)}
            drafted = [i for i in fresh if items[i].draft]
            if drafted:
                jobs = session.scalars(
                    self._batch["insert_jobs"],
                    [
                        {
                            "post_id": post_ids[i],
                            "kind": "draft",
                            "instruction": None,
                            "draft_id": None,
                            "status": "queued",
                            "attempts": 0,
                            "max_attempts": DEFAULT_MAX_ATTEMPTS,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in drafted
                    ],
                ).all()
                job_ids = {i: int(jid) for i, jid in zip(drafted, jobs, strict=True)}
            session.execute(
                self._batch["insert_audit"],
                [
                    {
                        "actor": items[i].source[:200],
                        "action": "post.received",
                        "entity": "post",
                        "entity_id": str(post_ids[i]),
                        "detail": {"job": job_ids[i]} if i in job_ids else {},
                        "at": now,
                    }
                    for i in fresh
                ],
            )
        out: list[SubmitResult] = []
        for i, (item, key) in enumerate(zip(items, keys, strict=True)):
            if i in post_ids:
                job = job_ids.get(i)
                out.append(SubmitResult(post_id=post_ids[i], job_id=job, duplicate=False))
                continue
            assert key is not None
            if key in stored:
                post_id, job = stored[key]
            else:
                first = first_of[key]
                post_id, job = post_ids[first], job_ids.get(first)
            out.append(
                SubmitResult(post_id=post_id, job_id=job if item.draft else None, duplicate=True)
            )
        return out

    def get_post(self, post_id: int) -> PostRecord:
        with self.reading() as session:
            row = session.get(PostRow, post_id)
            if row is None:
                raise NotFoundError(f"Post {post_id} does not exist.")
            member = session.get(MemberRow, row.member_id) if row.member_id else None
            return post_record(row, member)

    # Jobs ----------------------------------------------------------------------------------
    def claim_job(self, worker_id: str, *, lease_seconds: float = 300) -> JobRecord | None:
        """Lease the next claimable job: queued, or running with an expired lease (at-least-once).
        Regenerate jobs (a reviewer is waiting) come first, then oldest first."""
        while True:
            with self.transaction() as session:
                now = utcnow()
                row = session.scalars(
                    select(JobRow)
                    .where(
                        or_(
                            JobRow.status == "queued",
                            (JobRow.status == "running") & (JobRow.lease_expires_at < now),
                        )
                    )
                    .order_by(case((JobRow.kind == "regenerate", 0), else_=1), JobRow.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).first()
                if row is None:
                    return None
                if row.status == "running" and row.attempts >= row.max_attempts:
                    row.status = "failed"
                    row.last_error = (
                        f"lease held by {row.lease_owner} expired {row.attempts} times; "
                        "the worker probably crashed on this job"
                    )
                    row.lease_owner = None
                    row.updated_at = now
                    self._audit(session, worker_id, "job.failed", "job", row.id, {})
                    continue
                row.status = "running"
                row.lease_owner = worker_id
                row.lease_expires_at = now + timedelta(seconds=lease_seconds)
                row.attempts += 1
                row.updated_at = now
                session.flush()
                return job_record(row)

    def renew_lease(self, job_id: int, worker_id: str, *, lease_seconds: float = 300) -> bool:
        """Extend a lease the worker still holds (heartbeat for long drafts); False if lost."""
        with self.transaction() as session:
            result = session.execute(
                update(JobRow)
                .where(
                    JobRow.id == job_id,
                    JobRow.status == "running",
                    JobRow.lease_owner == worker_id,
                )
                .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def _leased(self, session: Session, job_id: int, worker_id: str) -> JobRow:
        row = session.scalars(select(JobRow).where(JobRow.id == job_id).with_for_update()).first()
        if row is None:
            raise NotFoundError(f"Job {job_id} does not exist.")
        if row.status != "running" or row.lease_owner != worker_id:
            raise ConflictError(
                f"Job {job_id} is no longer leased to {worker_id} (status {row.status}, "
                f"lease owner {row.lease_owner or 'none'}); the result was discarded",
                hint="another worker has taken it over; nothing to do",
            )
        return row

    def complete_job(self, job_id: int, worker_id: str, draft: Draft) -> int:
        """Store the job's draft and mark the job done; returns the draft id.

        Idempotent: a job that already has a draft returns that id and writes nothing. A worker
        that lost its lease (another worker reclaimed the job) gets ConflictError."""
        with self.transaction() as session:
            existing = session.scalars(select(DraftRow.id).where(DraftRow.job_id == job_id)).first()
            if existing is not None:
                return int(existing)
            job = self._leased(session, job_id, worker_id)
            existing = session.scalars(select(DraftRow.id).where(DraftRow.job_id == job_id)).first()
            if existing is not None:  # completed while we waited for the row lock
                return int(existing)
            now = utcnow()
            status = "pending"
            superseded: DraftRow | None = None
            if job.kind == "regenerate" and job.draft_id is not None:
                superseded = session.get(DraftRow, job.draft_id)
                if superseded is not None and superseded.status != "pending":
                    status = "superseded"  # the original was decided meanwhile; keep it on record
            row = DraftRow(
                post_id=job.post_id,
                job_id=job.id,
                status=status,
                moment=draft.moment.type.value,
                urgency=draft.moment.urgency.value,
                urgency_rank=urgency_rank(draft.moment.urgency.value),
                text=draft.text,
                payload=draft.model_dump(mode="json"),
                version=1,
                row_version=1,
                supersedes_id=job.draft_id if job.kind == "regenerate" else None,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            source = "regenerate" if job.kind == "regenerate" else "model"
            session.add(
                DraftVersionRow(
                    draft_id=row.id, version=1, text=draft.text, source=source, created_at=now
                )
            )
            if superseded is not None and superseded.status == "pending":
                superseded.status = "superseded"
                superseded.row_version += 1
                superseded.updated_at = now
                self._audit(
                    session, worker_id, "draft.superseded", "draft", superseded.id, {"by": row.id}
                )
            job.status = "done"
            job.lease_expires_at = None
            job.updated_at = now
            self._audit(
                session,
                worker_id,
                "draft.created",
                "draft",
                row.id,
                {"job": job.id, "kind": job.kind, "status": status, "model": draft.model.name},
            )
            return row.id

    def finish_job(self, job_id: int, worker_id: str) -> None:
        """Mark a job that produces no draft (kind "learn") done."""
        with self.transaction() as session:
            job = session.get(JobRow, job_id)
            if job is not None and job.status == "done":
                return
            job = self._leased(session, job_id, worker_id)
            job.status = "done"
            job.lease_expires_at = None
            job.updated_at = utcnow()

    def fail_job(self, job_id: int, worker_id: str, error: str, *, retry: bool) -> None:
        """Record an error; requeue while attempts remain and `retry`, else mark it failed."""
        with self.transaction() as session:
            job = self._leased(session, job_id, worker_id)
            job.last_error = error[:4000]
            job.lease_owner = None
            job.lease_expires_at = None
            job.updated_at = utcnow()
            if retry and job.attempts < job.max_attempts:
                job.status = "queued"
            else:
                job.status = "failed"
                self._audit(session, worker_id, "job.failed", "job", job.id, {"error": error[:500]})

    def get_job(self, job_id: int) -> JobRecord:
        with self.reading() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise NotFoundError(f"Job {job_id} does not exist.")
            draft_id = session.scalars(select(DraftRow.id).where(DraftRow.job_id == job_id)).first()
            return job_record(row, draft_id)

    def list_jobs(self, *, status: str | None = None, limit: int = 100) -> list[JobRecord]:
        with self.reading() as session:
            query = select(JobRow, DraftRow.id).outerjoin(DraftRow, DraftRow.job_id == JobRow.id)
            if status:
                query = query.where(JobRow.status == status)
            rows = session.execute(query.order_by(JobRow.id.desc()).limit(limit)).all()
            return [job_record(job, draft_id) for job, draft_id in rows]

    def job_counts(self) -> dict[str, int]:
        """Jobs per status (for health pages and benchmarks)."""
        with self.reading() as session:
            rows = session.execute(select(JobRow.status, func.count()).group_by(JobRow.status))
            return {status: int(count) for status, count in rows}

    # Drafts --------------------------------------------------------------------------------
    def _queue_query(
        self,
        status: str,
        moment: str | None,
        urgency: str | None,
        community_id: str | None,
        max_age_hours: float | None,
        source: str | None = None,
    ) -> Any:
        """The queue page's columns only: not the posts' thread JSON nor the drafts' full
        payload (citations, prompt, tone card), of which the page needs the tone alone."""
        query = (
            select(
                DraftRow.id,
                DraftRow.post_id,
                DraftRow.status,
                DraftRow.moment,
                DraftRow.urgency,
                DraftRow.text,
                DraftRow.version,
                DraftRow.created_at,
                DraftRow.payload["tone"].label("tone"),
                PostRow.title,
                func.substr(PostRow.text, 1, 200).label("excerpt"),
                PostRow.community_id,
                PostRow.forum,
                MemberRow.handle,
                MemberRow.name,
            )
            .join(PostRow, PostRow.id == DraftRow.post_id)
            .outerjoin(MemberRow, MemberRow.id == PostRow.member_id)
            .where(DraftRow.status == status)
        )
        if moment:
            query = query.where(DraftRow.moment == moment)
        if urgency:
            query = query.where(DraftRow.urgency == urgency)
        if community_id:
            query = query.where(PostRow.community_id == community_id)
        if max_age_hours is not None:
            query = query.where(DraftRow.created_at >= utcnow() - timedelta(hours=max_age_hours))
        if source is not None:
            query = query.where(PostRow.source == source)
        return query

    def list_queue(
        self,
        *,
        status: str = "pending",
        moment: str | None = None,
        urgency: str | None = None,
        community_id: str | None = None,
        max_age_hours: float | None = None,
        limit: int = 50,
        offset: int = 0,
        source: str | None = None,
    ) -> list[DraftSummary]:
        """Drafts by urgency (critical first), then oldest first. `source`: only drafts for
        posts received from this source (a forum plugin sees its own posts)."""
        query = self._queue_query(status, moment, urgency, community_id, max_age_hours, source)
        query = (
            query.order_by(DraftRow.urgency_rank.desc(), DraftRow.created_at, DraftRow.id)
            .limit(limit)
            .offset(offset)
        )
        now = utcnow()
        out: list[DraftSummary] = []
        with self.reading() as session:
            rows = session.execute(query).all()
        for row in rows:
            tone = row.tone if isinstance(row.tone, dict) else {}
            out.append(
                from_attributes(
                    DraftSummary,
                    row,
                    excerpt=row.excerpt or "",
                    member_handle=row.handle,
                    member_name=row.name,
                    forum=row.forum or None,
                    **_tone_and_age(tone, row.created_at, now),
                )
            )
        return out

    def queue_counts(
        self, *, status: str = "pending", community_id: str | None = None
    ) -> QueueCounts:
        """How many drafts have this status, in total, per moment and per urgency."""
        with self.reading() as session:
            base = select(DraftRow.moment, DraftRow.urgency, func.count()).join(
                PostRow, PostRow.id == DraftRow.post_id
            )
            base = base.where(DraftRow.status == status)
            if community_id:
                base = base.where(PostRow.community_id == community_id)
            rows = session.execute(base.group_by(DraftRow.moment, DraftRow.urgency)).all()
        by_moment: dict[str, int] = {}
        by_urgency: dict[str, int] = {}
        for moment, urgency, count in rows:
            by_moment[moment] = by_moment.get(moment, 0) + int(count)
            by_urgency[urgency] = by_urgency.get(urgency, 0) + int(count)
        return QueueCounts(
            status=status,
            total=sum(by_moment.values()),
            by_moment=by_moment,
            by_urgency=by_urgency,
        )

    def draft_record(
        self,
        session: Session,
        row: DraftRow,
        *,
        post: PostRow | None = None,
        member: MemberRow | None = None,
    ) -> DraftRecord:
        """Build the full record of a draft inside an open session (pass the post and member
        when they are already loaded)."""
        if post is None:
            post = session.get(PostRow, row.post_id)
            assert post is not None
            member = session.get(MemberRow, post.member_id) if post.member_id else None
        versions = session.scalars(
            select(DraftVersionRow)
            .where(DraftVersionRow.draft_id == row.id)
            .order_by(DraftVersionRow.version)
        ).all()
        reviews = session.scalars(
            select(ReviewRow).where(ReviewRow.draft_id == row.id).order_by(ReviewRow.id)
        ).all()
        publication = session.scalars(
            select(PublicationRow).where(PublicationRow.draft_id == row.id)
        ).first()
        superseded_by = session.scalars(
            select(DraftRow.id).where(DraftRow.supersedes_id == row.id).order_by(DraftRow.id)
        ).first()
        return from_attributes(
            DraftRecord,
            row,
            draft=load_draft(row.payload),
            superseded_by_id=superseded_by,
            post=post_record(post, member),
            versions=[from_attributes(DraftVersionRecord, v) for v in versions],
            reviews=[from_attributes(ReviewRecord, r) for r in reviews],
            publication=publication_record(publication) if publication else None,
        )

    def get_draft(self, draft_id: int) -> DraftRecord:
        """A draft with its post, member, full Draft JSON, versions, reviews and publication."""
        with self.reading() as session:
            found = session.execute(
                select(DraftRow, PostRow, MemberRow)
                .join(PostRow, PostRow.id == DraftRow.post_id)
                .outerjoin(MemberRow, MemberRow.id == PostRow.member_id)
                .where(DraftRow.id == draft_id)
            ).first()
            if found is None:
                raise NotFoundError(f"Draft {draft_id} does not exist.")
            row, post, member = found
            return self.draft_record(session, row, post=post, member=member)

    def draft_for_job(self, job_id: int) -> int | None:
        with self.reading() as session:
            found = session.scalars(select(DraftRow.id).where(DraftRow.job_id == job_id)).first()
            return int(found) if found is not None else None

    def draft_counts(self) -> dict[str, int]:
        """Drafts per status."""
        with self.reading() as session:
            rows = session.execute(select(DraftRow.status, func.count()).group_by(DraftRow.status))
            return {status: int(count) for status, count in rows}

    # API keys ------------------------------------------------------------------------------
    def create_api_key(self, role: Role, name: str) -> tuple[ApiKeyRecord, str]:
        """Create a key; the plaintext is returned once and only its sha256 is stored."""
        if role not in ROLES:
            raise InputError(f"Unknown role {role!r}; use one of: {', '.join(ROLES)}.")
        check_lengths(key_name=(name, 200))
        plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
        with self.transaction() as session:
            row = ApiKeyRow(
                name=name or role,
                role=role,
                prefix=plaintext[:10],
                key_hash=hash_key(plaintext),
                created_at=utcnow(),
            )
            session.add(row)
            session.flush()
            self._audit(session, "cli", "api_key.created", "api_key", row.id, {"role": role})
            return api_key_record(row), plaintext

    def verify_api_key(self, plaintext: str) -> ApiKeyRecord | None:
        """The active key with this plaintext (touching last_used_at), or None."""
        if not plaintext or not plaintext.startswith(KEY_PREFIX):
            return None
        digest = hash_key(plaintext)
        with self.reading() as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest)).first()
            if row is None or row.revoked_at is not None:
                return None
            record = api_key_record(row)
        now = utcnow()
        if record.last_used_at is None or now - record.last_used_at > timedelta(seconds=60):
            with self.transaction() as session:
                touched = session.get(ApiKeyRow, record.id)
                if touched is not None:
                    touched.last_used_at = now
            record = record.model_copy(update={"last_used_at": now})
        return record

    def list_api_keys(self) -> list[ApiKeyRecord]:
        with self.reading() as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)).all()
            return [api_key_record(r) for r in rows]

    def revoke_api_key(self, key_id: int) -> ApiKeyRecord:
        with self.transaction() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFoundError(f"API key {key_id} does not exist; see `moments keys list`.")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                self._audit(session, "cli", "api_key.revoked", "api_key", row.id, {})
            return api_key_record(row)

    # Audit ---------------------------------------------------------------------------------
    def _audit(
        self,
        session: Session,
        actor: str,
        action: str,
        entity: str,
        entity_id: str | int | None,
        detail: dict[str, Any] | None,
    ) -> None:
        session.add(
            AuditRow(
                actor=actor[:200],
                action=action[:50],
                entity=entity[:50],
                entity_id=None if entity_id is None else str(entity_id)[:100],
                detail=detail or {},
                at=utcnow(),
            )
        )

    def audit(
        self,
        actor: str,
        action: str,
        entity: str,
        entity_id: str | int | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append to the audit log (its own transaction)."""
        with self.transaction() as session:
            self._audit(session, actor, action, entity, entity_id, detail)

    def list_audit(
        self, *, entity: str | None = None, entity_id: str | int | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        """Newest first."""
        with self.reading() as session:
            query = select(AuditRow)
            if entity:
                query = query.where(AuditRow.entity == entity)
            if entity_id is not None:
                query = query.where(AuditRow.entity_id == str(entity_id))
            rows = session.scalars(query.order_by(AuditRow.id.desc()).limit(limit)).all()
            return [from_attributes(AuditRecord, r, detail=dict(r.detail or {})) for r in rows]

    # Crisis statements ---------------------------------------------------------------------
    def save_statements(
        self, incident_id: str, statements: StatementSet, facts: IncidentFacts
    ) -> list[StatementRecord]:
        """Store one pending statement per channel of the set."""
        now = utcnow()
        with self.transaction() as session:
            rows: list[StatementRow] = []
            for channel, statement in statements.statements.items():
                row = StatementRow(
                    incident_id=incident_id,
                    stage=statement.stage or statements.stage,
                    channel=channel,
                    text=statement.text,
                    violations=[v.model_dump(mode="json") for v in statement.violations],
                    facts=facts.model_dump(mode="json"),
                    payload=statement.model_dump(mode="json"),
                    status="pending",
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                rows.append(row)
            session.flush()
            self._audit(
                session,
                "crisis",
                "statements.saved",
                "incident",
                incident_id,
                {"ids": [r.id for r in rows], "stage": statements.stage},
            )
            return [statement_record(r) for r in rows]

    def list_statements(
        self, *, incident_id: str | None = None, status: str | None = None
    ) -> list[StatementRecord]:
        with self.reading() as session:
            query = select(StatementRow)
            if incident_id:
                query = query.where(StatementRow.incident_id == incident_id)
            if status:
                query = query.where(StatementRow.status == status)
            rows = session.scalars(query.order_by(StatementRow.id)).all()
            return [statement_record(r) for r in rows]

    def get_statement(self, statement_id: int) -> StatementRecord:
        with self.reading() as session:
            row = session.get(StatementRow, statement_id)
            if row is None:
                raise NotFoundError(f"Statement {statement_id} does not exist.")
            return statement_record(row)

    def _decide_statement(
        self,
        statement_id: int,
        reviewer: str,
        status: str,
        *,
        text_: str | None = None,
        reason: str | None = None,
    ) -> StatementRecord:
        with self.transaction() as session:
            row = session.scalars(
                select(StatementRow).where(StatementRow.id == statement_id).with_for_update()
            ).first()
            if row is None:
                raise NotFoundError(f"Statement {statement_id} does not exist.")
            if row.status != "pending":
                raise ConflictError(
                    f"Statement {statement_id} was already {row.status} by {row.reviewer}; "
                    "only pending statements can be approved or rejected"
                )
            if text_ is not None and text_.strip():
                row.text = text_
            row.status = status
            row.reviewer = reviewer
            row.reason = reason
            row.updated_at = utcnow()
            self._audit(
                session,
                reviewer,
                f"statement.{status}",
                "statement",
                row.id,
                {"reason": reason} if reason else {},
            )
            return statement_record(row)

    def approve_statement(
        self, statement_id: int, reviewer: str, *, text: str | None = None
    ) -> StatementRecord:
        return self._decide_statement(statement_id, reviewer, "approved", text_=text)

    def reject_statement(self, statement_id: int, reviewer: str, reason: str) -> StatementRecord:
        if not reason or not reason.strip():
            raise InputError("A reason is required to reject a statement.")
        return self._decide_statement(statement_id, reviewer, "rejected", reason=reason)

    # Read models for the API (incidents list, member history) -------------------------------
    def list_incidents(self, *, limit: int = 100) -> list[IncidentSummary]:
        """Incidents, most recently changed first: the latest stage, its facts, and how many of
        that stage's statements are pending, approved and rejected."""
        with self.reading() as session:
            latest = session.execute(
                select(StatementRow.incident_id, func.max(StatementRow.id).label("last"))
                .group_by(StatementRow.incident_id)
                .order_by(func.max(StatementRow.id).desc())
                .limit(limit)
            ).all()
            if not latest:
                return []
            ids = [incident_id for incident_id, _ in latest]
            rows = session.execute(
                select(
                    StatementRow.id,
                    StatementRow.incident_id,
                    StatementRow.stage,
                    StatementRow.status,
                    StatementRow.facts,
                    StatementRow.created_at,
                    StatementRow.updated_at,
                )
                .where(StatementRow.incident_id.in_(ids))
                .order_by(StatementRow.id)
            ).all()
        grouped: dict[str, list[Any]] = {}
        for row in rows:
            grouped.setdefault(row.incident_id, []).append(row)
        out: list[IncidentSummary] = []
        for incident_id in ids:
            mine = grouped.get(incident_id) or []
            if not mine:
                continue
            last = mine[-1]
            facts = next((r.facts for r in reversed(mine) if r.facts), None)
            counts: dict[str, int] = {}
            for r in mine:
                if r.stage == last.stage:
                    counts[r.status] = counts.get(r.status, 0) + 1
            parsed: IncidentFacts | None = None
            if facts:
                try:
                    parsed = IncidentFacts.model_validate(facts)
                except ValidationError:
                    parsed = None
            out.append(
                IncidentSummary(
                    id=incident_id,
                    stage=last.stage,
                    title=parsed.title if parsed else None,
                    started_at=parsed.started_at if parsed else None,
                    statements=len(mine),
                    pending=counts.get("pending", 0),
                    approved=counts.get("approved", 0),
                    rejected=counts.get("rejected", 0),
                    created_at=min(r.created_at for r in mine),
                    updated_at=max(r.updated_at for r in mine),
                )
            )
        return out

    def member_history(self, community_id: str, handle: str, *, limit: int = 50) -> MemberHistory:
        """A member's profile, their posts (newest first, at most `limit`) and every draft
        made for those posts (newest first). The handle matches exactly, else ignoring case.
        NotFoundError when the community has no such member."""
        with self.reading() as session:
            member = session.scalars(
                select(MemberRow).where(
                    MemberRow.community_id == community_id, MemberRow.handle == handle
                )
            ).first()
            if member is None:
                member = session.scalars(
                    select(MemberRow)
                    .where(
                        MemberRow.community_id == community_id,
                        func.lower(MemberRow.handle) == handle.lower(),
                    )
                    .order_by(MemberRow.id)
                ).first()
            if member is None:
                raise NotFoundError(
                    f"No member '{handle}' in community '{community_id}'.",
                    hint="members are recorded when their posts arrive; check the handle",
                )
            posts = session.scalars(
                select(PostRow)
                .where(PostRow.member_id == member.id)
                .order_by(PostRow.received_at.desc(), PostRow.id.desc())
                .limit(limit)
            ).all()
            drafts = (
                session.scalars(
                    select(DraftRow)
                    .where(DraftRow.post_id.in_([p.id for p in posts]))
                    .order_by(DraftRow.created_at.desc(), DraftRow.id.desc())
                ).all()
                if posts
                else []
            )
            by_id = {p.id: p for p in posts}
            now = utcnow()
            return MemberHistory(
                member=member_record(member),
                posts=[post_record(p, member) for p in posts],
                drafts=[_draft_summary(d, by_id[d.post_id], member, now) for d in drafts],
            )

    # Lifecycle -----------------------------------------------------------------------------
    def health(self) -> bool:
        """True when the database answers SELECT 1."""
        try:
            with self.engine.connect() as connection:
                return connection.execute(text("SELECT 1")).scalar() == 1
        except SQLAlchemyError:
            return False

    def close(self) -> None:
        self.engine.dispose()


def open_store(settings_or_url: Settings | str | None = None) -> Store:
    """Open the database from settings, a URL, or `get_settings()`, migrated to head."""
    if settings_or_url is None:
        url = get_settings().resolved_database_url
    elif isinstance(settings_or_url, Settings):
        url = settings_or_url.resolved_database_url
    else:
        url = settings_or_url
    engine = build_engine(url)
    migrate(engine)
    return Store(engine)


def utc_age_hours(at: datetime) -> float:
    return (utcnow() - at).total_seconds() / 3600


# Read models for the API -----------------------------------------------------------------------


class IncidentSummary(BaseModel):
    """One incident in a list: its latest stage and how that stage's statements stand."""

    model_config = ConfigDict(extra="forbid")

    id: str
    stage: str
    title: str | None = None
    started_at: str | None = None
    statements: int  # every statement of every stage
    pending: int  # in the latest stage
    approved: int
    rejected: int
    created_at: datetime
    updated_at: datetime


class MemberHistory(BaseModel):
    """A member, their posts (newest first) and the drafts made for them (newest first)."""

    model_config = ConfigDict(extra="forbid")

    member: MemberRecord
    posts: list[PostRecord]
    drafts: list[DraftSummary]


def _draft_summary(
    draft: DraftRow, post: PostRow, member: MemberRow | None, now: datetime
) -> DraftSummary:
    """A queue row, built the way `Store.list_queue` builds its rows."""
    tone = (draft.payload or {}).get("tone") or {}
    return from_attributes(
        DraftSummary,
        draft,
        post_id=post.id,
        title=post.title,
        excerpt=post.text[:200],
        member_handle=member.handle if member else None,
        member_name=member.name if member else None,
        community_id=post.community_id,
        forum=post.forum or None,
        **_tone_and_age(tone, draft.created_at, now),
    )


def _tone_and_age(tone: dict[str, Any], created_at: datetime, now: datetime) -> dict[str, Any]:
    """A queue row's computed fields: its tone flags and overall score, and its age in hours."""
    flags = [str(f.get("code", "")) for f in tone.get("flags") or []]
    return {
        "flagged": bool(flags),
        "flags": flags,
        "tone_overall": float(tone.get("overall") or 0.0),
        "age_hours": round((now - created_at).total_seconds() / 3600, 2),
    }
