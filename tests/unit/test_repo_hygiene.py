"""Guards for the suite itself."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent


def test_test_file_names_are_unique_across_unit_and_integration() -> None:
    # pytest's default import mode puts each test folder on sys.path: two files with one basename
    # in tests/unit and tests/integration make collection fail with "import file mismatch".
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
