"""Fixtures shared by the unit tests (imports are lazy: every unit test loads this file).

`client`: a TestClient over the app of the requesting module's own `harness` fixture (each API
test module builds its harness with the fakes it needs; the client around it is always the same).
`settings` and `run_offline`: an eval run with a fake or scripted model and no index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from api.testing import Harness
    from copilot.llm.base import ChatModel
    from copilot.settings import Settings
    from evals.suite import Suite


@pytest.fixture
def client(harness: Harness) -> Iterator[TestClient]:
    from fastapi.testclient import TestClient

    with TestClient(harness.app) as c:
        yield c


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with the data directory under tmp_path (a module needing other settings
    defines its own `settings`)."""
    from copilot.settings import load_settings

    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def run_offline(settings: Settings) -> Callable[..., dict[str, Any]]:
    """`run_suite` on this test's `settings` without a knowledge index (pass `retriever=` for
    one): `run_offline(suite, model, **options)`. `model` is a ChatModel every case shares
    (recorded as "fake") or "scripted" (each case's reference reply, as `--model scripted`)."""
    from evals.runner import run_suite, scripted_model_for

    def run(suite: Suite, model: ChatModel | str, **options: Any) -> dict[str, Any]:
        options = {"retriever": None, "settings": settings, **options}
        if model == "scripted":
            return run_suite(suite, model_for=scripted_model_for, model_name="scripted", **options)
        assert not isinstance(model, str), f"unknown model {model!r}: a ChatModel or 'scripted'"
        return run_suite(suite, model_for=lambda case: model, model_name="fake", **options)

    return run
