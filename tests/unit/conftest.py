"""Fixtures shared by the unit tests.

`client`: a TestClient over the app of the requesting module's own `harness` fixture (each API
test module builds its harness with the fakes it needs; the client around it is always the same).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from api.testing import Harness


@pytest.fixture
def client(harness: Harness) -> Iterator[TestClient]:
    from fastapi.testclient import TestClient

    with TestClient(harness.app) as c:
        yield c
