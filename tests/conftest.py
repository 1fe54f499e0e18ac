"""Shared fixtures.

Unit tests (tests/unit) must never load a real model: `_no_real_models` turns off
`copilot.guard.ALLOW_REAL_MODELS`, so the llama.cpp, OpenAI-compatible and sentence-transformers
adapters fail loudly there.
Integration tests (tests/integration) are marked `integration` and use the real things.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _no_real_models(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In unit tests any real model load or call is a bug: `copilot.guard` makes it fail."""
    from copilot import guard

    allowed = request.node.get_closest_marker("integration") is not None
    monkeypatch.setattr(guard, "ALLOW_REAL_MODELS", allowed)


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean MOMENTS_ environment with its data directory under tmp_path."""
    for key in list(os.environ):
        if key.startswith("MOMENTS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MOMENTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    from copilot.settings import reset_settings

    reset_settings()
    yield tmp_path / "data"
    reset_settings()
