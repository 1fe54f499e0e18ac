"""The store, review and worker contract tests, run on real SQLite (WAL file) and real
PostgreSQL (postgresql+psycopg://postgres@127.0.0.1:5432/test). Each PostgreSQL test gets a
fresh schema (search_path in the URL), dropped afterwards.

The tests themselves live in tests/unit/test_{store,review,worker}_contract.py; importing them
here with a `store` fixture parametrized over both backends runs the SAME assertions twice.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from test_review_contract import *  # noqa: E402,F403
from test_store_contract import *  # noqa: E402,F403
from test_worker_contract import *  # noqa: E402,F403

from copilot.store import Store, open_store  # noqa: E402

PG_URL = os.environ.get(
    "MOMENTS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def postgres_store() -> Iterator[Store]:
    """A store in a fresh PostgreSQL schema, dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin_url = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in PG_URL else "?"
    opened = open_store(f"{PG_URL}{separator}options=-csearch_path%3D{schema}")
    try:
        assert opened.dialect == "postgresql"
        yield opened
    finally:
        opened.close()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:  # noqa: F811
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'moments.db'}")
        yield opened
        opened.close()
        return
    with postgres_store() as opened:
        yield opened


@pytest.fixture
def pg_store() -> Iterator[Store]:
    with postgres_store() as opened:
        yield opened


def test_postgres_claims_with_skip_locked(pg_store: Store) -> None:
    """Two open transactions: the second claim skips the row the first one holds."""
    from sqlalchemy import select

    from copilot.store_models import JobRow

    store = pg_store
    store.submit_post(make_post(1), source="t")  # noqa: F405
    store.submit_post(make_post(2), source="t")  # noqa: F405
    with store.transaction() as session:
        held = session.scalars(
            select(JobRow).order_by(JobRow.id).limit(1).with_for_update(skip_locked=True)
        ).one()
        other = store.claim_job("w2")
        assert other is not None and other.id != held.id
