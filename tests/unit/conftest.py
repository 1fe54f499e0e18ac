"""Fixtures shared by the unit tests (imports are lazy: every unit test loads this file).

`client`: a TestClient over the app of the requesting module's own `harness` fixture (each API
test module builds its harness with the fakes it needs; the client around it is always the same).
`settings` and `run_offline`: an eval run with a fake or scripted model and no index.
`fake_bundle`: small fake chunk packages standing in for a bundled model's real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from api.testing import Harness
    from copilot.llm.base import ChatModel
    from copilot.models import BundledModel
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


@pytest.fixture
def fake_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, Sequence[bytes]], tuple[BundledModel, dict[tuple[str, int], Path]]]:
    """`fake_bundle(name, parts)`: the bundled model `name` becomes the chunk packages
    fakepkg-part1..N, part i holding `parts[i - 1]` (files under tmp_path/site) and the spec
    pinning their concatenation's size and sha256. Returns the spec and the locator table
    ((module, index) → file; delete an entry to uninstall that part)."""
    import hashlib

    from copilot import models

    def bundle(
        name: str, parts: Sequence[bytes]
    ) -> tuple[BundledModel, dict[tuple[str, int], Path]]:
        table: dict[tuple[str, int], Path] = {}
        for i, data in enumerate(parts, start=1):
            path = tmp_path / "site" / f"fakepkg_part{i}" / "data" / f"part{i:02d}.bin"
            path.parent.mkdir(parents=True)
            path.write_bytes(data)
            table[(f"fakepkg_part{i}", i)] = path
        whole = b"".join(parts)
        spec = models.BundledModel(
            name=name,
            title="fake",
            distribution="fakepkg-part",
            version="0.0.1",
            parts=len(parts),
            sha256=hashlib.sha256(whole).hexdigest(),
            size=len(whole),
        )
        monkeypatch.setitem(models.BUNDLED, name, spec)
        monkeypatch.setattr(
            models, "find_part_file", lambda module, index: table.get((module, index))
        )
        return spec, table

    return bundle
