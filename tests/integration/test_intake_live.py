"""The webhook intake (api/intake.py + Store.submit_posts) on real SQLite and real PostgreSQL:
a burst of signed deliveries with redeliveries and new revisions against a real uvicorn server,
and two stores (as two API processes) writing overlapping batches at the same time."""

from __future__ import annotations

import asyncio
import copy
import json
import random
import threading
import uuid
from pathlib import Path

import httpx
from sqlalchemy import func, select

from api.testing import TEST_SECRET, discourse_headers, live_server, sample_payload
from copilot.store import SubmitResult, open_store
from copilot.store_engine import Submission
from copilot.store_models import JobRow, PostRow
from copilot.types import Member, Post

FAST_UVICORN = ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]


def burst(distinct: int, seed: int = 11) -> list[tuple[tuple[int, int], bytes]]:
    """((post id, version), body) for `distinct` posts, a third of them delivered 2-3 times,
    a tenth edited (version 2, itself redelivered), shuffled."""
    rng = random.Random(seed)
    template = sample_payload("post_created")
    out: list[tuple[tuple[int, int], bytes]] = []
    for i in range(distinct):
        payload = copy.deepcopy(template)
        post = payload["post"]
        post.update(id=70_000 + i, topic_id=800 + i // 4, username=f"member{i % 7}")
        post["raw"] = f"{post['raw']} (burst {i})"
        body = json.dumps(payload).encode()
        copies = 1 + (rng.randint(1, 2) if i % 3 == 0 else 0)
        out += [((post["id"], 1), body)] * copies
        if i % 10 == 0:
            post["version"] = 2
            post["raw"] += "\n\nEdit: fixed after a factory reset."
            edited = json.dumps(payload).encode()
            out += [((post["id"], 2), edited)] * 2
    rng.shuffle(out)
    return out


async def send_all(
    url: str, deliveries: list[tuple[tuple[int, int], bytes]], concurrency: int
) -> list[tuple[tuple[int, int], int, dict[str, object]]]:
    queue: asyncio.Queue[tuple[tuple[int, int], bytes]] = asyncio.Queue()
    for item in deliveries:
        queue.put_nowait(item)
    answers: list[tuple[tuple[int, int], int, dict[str, object]]] = []
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:

        async def worker() -> None:
            while not queue.empty():
                key, body = queue.get_nowait()
                headers = discourse_headers(body, TEST_SECRET, event_id=uuid.uuid4().hex[:10])
                response = await client.post(
                    "/v1/webhooks/discourse", content=body, headers=headers
                )
                answers.append((key, response.status_code, response.json()))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return answers


def test_burst_with_redeliveries_is_one_post_and_one_job_per_version(
    database_url: str, tmp_path: Path
) -> None:
    deliveries = burst(60)
    env = {
        "MOMENTS_ENV": "test",
        "MOMENTS_DATA_DIR": str(tmp_path / "data"),
        "MOMENTS_DATABASE_URL": database_url,
        "MOMENTS_DISCOURSE_WEBHOOK_SECRET": TEST_SECRET,
    }
    with live_server(env, log_path=tmp_path / "server.log", extra_args=FAST_UVICORN) as url:
        answers = asyncio.run(send_all(url, deliveries, concurrency=24))

    # every delivery answered, truthfully: exactly one `queued` per (post id, version)
    assert len(answers) == len(deliveries)
    assert {status for _, status, _ in answers} == {200}
    by_key: dict[tuple[int, int], list[dict[str, object]]] = {}
    for key, _, body in answers:
        by_key.setdefault(key, []).append(body)
    assert len(by_key) == 66  # 60 posts + 6 edits
    for key, bodies in by_key.items():
        outcomes = sorted(str(b["outcome"]) for b in bodies)
        assert outcomes == ["duplicate"] * (len(bodies) - 1) + ["queued"], (key, outcomes)
        assert len({(b["post_id"], b["job_id"]) for b in bodies}) == 1, key

    # and the store agrees: one post per (post id, revision), one job per post
    store = open_store(database_url)
    try:
        with store.engine.connect() as connection:
            posts = connection.execute(
                select(PostRow.forum_post_id, PostRow.revision, func.count()).group_by(
                    PostRow.forum_post_id, PostRow.revision
                )
            ).all()
            jobs = connection.execute(
                select(JobRow.post_id, func.count()).group_by(JobRow.post_id)
            ).all()
    finally:
        store.close()
    assert len(posts) == 66 and all(count == 1 for _, _, count in posts)
    assert len(jobs) == 66 and all(count == 1 for _, count in jobs)
    queued_ids = {
        int(str(b["job_id"])) for bodies in by_key.values() for b in bodies if b["job_id"]
    }
    assert len(queued_ids) == 66


def test_two_processes_writing_overlapping_batches(database_url: str) -> None:
    """Two stores (two engines, as two API workers) submit overlapping batches at once; the
    loser of a race on a key falls back one by one and reports the winner's post."""
    first, second = open_store(database_url), open_store(database_url)
    posts = [
        Post(
            text=f"Scenes gone after the update ({n})",
            member=Member(handle=f"m{n % 5}", name=f"M {n}"),
            forum="discourse",
            forum_post_id=str(9_000 + n),
            topic_id="1",
        )
        for n in range(40)
    ]
    results: dict[str, list[SubmitResult | Exception]] = {}
    barrier = threading.Barrier(2)

    def run(name: str, store_: object, order: list[Post]) -> None:
        barrier.wait()
        out: list[SubmitResult | Exception] = []
        for start in range(0, len(order), 8):
            batch = [Submission(p, "discourse:test") for p in order[start : start + 8]]
            out += store_.submit_posts(batch)  # type: ignore[attr-defined]
        results[name] = out

    try:
        threads = [
            threading.Thread(target=run, args=("a", first, posts)),
            threading.Thread(target=run, args=("b", second, list(reversed(posts)))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        a, b = results["a"], list(reversed(results["b"]))
        assert all(isinstance(r, SubmitResult) for r in a + b), [
            r for r in a + b if isinstance(r, Exception)
        ]
        for ra, rb in zip(a, b, strict=True):
            assert isinstance(ra, SubmitResult) and isinstance(rb, SubmitResult)
            assert ra.post_id == rb.post_id and ra.job_id == rb.job_id
            assert ra.duplicate != rb.duplicate  # exactly one of the two created it
        assert first.job_counts() == {"queued": 40}
    finally:
        first.close()
        second.close()
