"""Fault tolerance, as real processes: kill -9 the API (`moments serve`) mid-load, then the API
and a worker at once, restart them, and every accepted Discourse webhook has exactly one draft.

A small version of benchmarks/crash_test.py (same code), on SQLite and on PostgreSQL. The
client retries every delivery the dead API did not answer, as Discourse does; the retries and
the redeliveries in the load must not make a second post, job or draft. The worker drafts with
the test-only fake drafter (no model)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # benchmarks/ is a folder of scripts, not an installed package
    sys.path.insert(0, str(REPO))

from benchmarks.crash_test import Kill, run_crash_test  # noqa: E402


def test_kill_api_and_worker_mid_load_loses_and_duplicates_nothing(
    database_url: str, tmp_path: Path
) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    report = run_crash_test(
        database_url,
        tmp_path,
        backend=backend,
        deliveries=300,
        redeliveries=0.3,
        concurrency=16,
        rate=0.0,
        kills=(Kill(0.3, api=True), Kill(0.6, api=True, worker=True)),
        workers=2,
        lease=2.0,
        timeout=100.0,
    )

    # the crashes happened mid-load: two API kills with requests on the wire, and deliveries
    # that failed against the dead API were retried
    assert [(k.kill.api, k.kill.worker) for k in report.kills] == [(True, False), (True, True)]
    assert all(k.in_flight > 0 for k in report.kills), report.kills
    assert report.connection_errors > 0
    assert all(k.accepted < report.deliveries for k in report.kills), report.kills

    # every post was accepted in the end, and each has exactly one post row, job and draft
    assert not report.unaccepted
    assert len(report.accepted) == report.distinct
    assert report.lost == []
    assert report.duplicated == []
    assert report.post_rows == report.jobs == report.drafts == report.distinct
    assert report.by_status == {"done": report.distinct}
    # one `queued` answer at most per post (a retry of a committed delivery says `duplicate`)
    assert all(n == 1 for n in report.run.queued.values())
