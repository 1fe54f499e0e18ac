"""Loading and chunking the knowledge base: structure, moment tags, interactions, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.knowledge import (
    CHUNK_SIZE,
    chunk_markdown,
    html_to_markdown,
    load_file,
    parse_interactions_csv,
    parse_interactions_jsonl,
    split_paragraphs,
)
from copilot.types import MomentType, SnippetKind

PLAYBOOK = """# Playbook: negative feedback
Moment: complaint

Intro paragraph about complaints.

## Why it matters

Complaints answered well build trust.

## Do

Follow four steps.

### 1. Acknowledge the feeling

Name what the member is going through.

```text
# not a heading inside a code fence
```

## Don't

- Promise refunds.
- Blame the member.
"""

GOOD_LINE = (
    '{"id": "int-001", "moment": "complaint", "community_id": "default", '
    '"created_at": "2026-03-02", "title": "Hub stuck", "post": "My hub is stuck on boot.", '
    '"reply": "Sorry about that, here is the recovery guide.", '
    '"member": {"handle": "solderfox", "name": "Priya", "post_count": 12}, '
    '"staff": "Maya Okafor", "outcome": "Recovered the same day", "tags": ["firmware"]}'
)


def test_markdown_chunks_keep_heading_paths_and_moment() -> None:
    chunks, problems = chunk_markdown(PLAYBOOK, source="playbook.md")
    assert problems == []
    headings = [c.heading for c in chunks]
    assert headings == [
        "Playbook: negative feedback",
        "Playbook: negative feedback > Why it matters",
        "Playbook: negative feedback > Do",
        "Playbook: negative feedback > Do > 1. Acknowledge the feeling",
        "Playbook: negative feedback > Don't",
    ]
    assert {c.moment for c in chunks} == {MomentType.COMPLAINT}
    assert all(c.title == "Playbook: negative feedback" for c in chunks)
    assert all(c.kind is SnippetKind.GUIDELINE for c in chunks)
    # the Moment line is metadata, not text; the fenced "# ..." stays text
    assert not any("Moment:" in c.text for c in chunks)
    assert "# not a heading" in chunks[3].text
    assert chunks[1].embedding_text.startswith("Playbook: negative feedback > Why it matters")


def test_chunk_ids_are_stable_and_hash_the_text() -> None:
    first, _ = chunk_markdown(PLAYBOOK, source="playbook.md")
    again, _ = chunk_markdown(PLAYBOOK, source="playbook.md")
    elsewhere, _ = chunk_markdown(PLAYBOOK, source="other.md")
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    assert not {c.id for c in first} & {c.id for c in elsewhere}
    edited, _ = chunk_markdown(
        PLAYBOOK.replace("build trust", "build lasting trust"), source="playbook.md"
    )
    assert [c.id for c in edited] == [c.id for c in first]
    changed = [
        a.heading for a, b in zip(first, edited, strict=True) if a.content_hash != b.content_hash
    ]
    assert changed == ["Playbook: negative feedback > Why it matters"]


def test_no_moment_line_means_no_moment_and_unknown_moment_is_a_problem() -> None:
    chunks, problems = chunk_markdown("# Guide\n\nSome text.\n", source="g.md")
    assert chunks[0].moment is None and problems == []
    chunks, problems = chunk_markdown("# Guide\nMoment: tantrum\n\nText.\n", source="g.md")
    assert chunks[0].moment is None
    assert problems[0].line == 2 and "tantrum" in problems[0].message
    # a Moment line further down is just text
    chunks, _ = chunk_markdown("# Guide\n\nText.\n\nMoment: complaint\n", source="g.md")
    assert chunks[0].moment is None


def test_small_paragraphs_merge_and_long_sections_split() -> None:
    merged = split_paragraphs("one\n\ntwo\n\nthree")
    assert merged == ["one\n\ntwo\n\nthree"]
    long_text = "\n\n".join(f"Paragraph {i}. " + "word " * 60 for i in range(20))
    pieces = split_paragraphs(long_text)
    assert len(pieces) > 3
    assert all(len(p) <= CHUNK_SIZE for p in pieces)
    one_huge = "sentence. " * 400
    assert all(len(p) <= CHUNK_SIZE for p in split_paragraphs(one_huge))


def test_html_headings_become_the_heading_path(tmp_path: Path) -> None:
    page = tmp_path / "policy.html"
    page.write_text(
        "<html><head><title>Store policy</title><script>var x=1;</script></head><body>"
        "<h1>Refunds</h1><p>Refunds go through a support ticket.</p>"
        "<h2>Window</h2><p>Within 30 days of delivery.</p><ul><li>Keep the box</li></ul>"
        "</body></html>",
        encoding="utf-8",
    )
    # the page's h1 is the title; <title> is used only when there is no h1
    assert html_to_markdown(page.read_text()).startswith("# Refunds")
    assert html_to_markdown("<title>Policy</title><p>Text</p>") == "# Policy\n\nText"
    result = load_file(page, source="policy.html")
    assert result.problems == []
    by_heading = {c.heading: c.text for c in result.chunks}
    assert "Refunds > Window" in by_heading
    assert "30 days" in by_heading["Refunds > Window"]
    assert "Keep the box" in by_heading["Refunds > Window"]
    assert not any("var x" in text for text in by_heading.values())


def _minimal_pdf(pages: list[str]) -> bytes:
    """A valid PDF with one line of Helvetica text per page (no PDF writer needed)."""
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    font_id = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def test_pdf_pages_become_headings(tmp_path: Path) -> None:
    pdf = tmp_path / "store-faq.pdf"
    pdf.write_bytes(_minimal_pdf(["Shipping takes five days.", "Returns need a ticket."]))
    result = load_file(pdf, source="store-faq.pdf")
    assert result.problems == []
    assert [(c.heading, c.title) for c in result.chunks] == [
        ("Page 1", "Store faq"),
        ("Page 2", "Store faq"),
    ]
    assert "Returns need a ticket" in result.chunks[1].text


def test_jsonl_interactions_parse_and_bad_lines_name_line_and_field() -> None:
    text = "\n".join(
        [
            GOOD_LINE,
            "",
            '{"id": "int-002", "post": "x"',  # truncated JSON
            '{"id": "int-003", "post": "Hi"}',  # reply missing
            '{"id": "int-004", "post": "Hi", "reply": "Hello", "moment": "tantrum"}',
            '["not", "an", "object"]',
            GOOD_LINE.replace("int-001", "int-005"),
        ]
    )
    records, problems = parse_interactions_jsonl(text, file="past.jsonl")
    assert [(line, r.id) for line, r in records] == [(1, "int-001"), (7, "int-005")]
    by_line = {p.line: p for p in problems}
    assert set(by_line) == {3, 4, 5, 6}
    assert "invalid JSON" in by_line[3].message
    assert "reply" in by_line[4].message
    assert "moment" in by_line[5].message
    assert all(p.file == "past.jsonl" and p.hint for p in problems)
    record = records[0][1]
    assert record.member.handle == "solderfox" and record.moment is MomentType.COMPLAINT


def test_csv_interactions_flatten_member_fields_and_lists() -> None:
    text = (
        "id,moment,title,post,reply,member_handle,member_post_count,member_roles,tags,outcome\n"
        'int-010,welcome,Hello,"Hi all, new here","Welcome, Sam!",sam,3,maker;beta,intro;new,'
        "Stayed\n"
        "int-011,complaint,Broken,It broke,,bob,x,,,\n"
    )
    records, problems = parse_interactions_csv(text, file="past.csv")
    assert len(records) == 1
    record = records[0][1]
    assert record.member.handle == "sam" and record.member.post_count == 3
    assert record.member.roles == ["maker", "beta"] and record.tags == ["intro", "new"]
    assert problems[0].line == 3
    assert "reply" in problems[0].message and "member.post_count" in problems[0].message


def test_csv_missing_columns_is_one_problem() -> None:
    records, problems = parse_interactions_csv("id,post\nint-1,hello\n", file="p.csv")
    assert records == []
    assert problems[0].line == 1 and "reply" in problems[0].message


def test_interaction_chunk_labels_post_and_reply(tmp_path: Path) -> None:
    path = tmp_path / "past.jsonl"
    path.write_text(GOOD_LINE + "\n" + GOOD_LINE + "\n", encoding="utf-8")
    result = load_file(path, source="past.jsonl")
    assert len(result.chunks) == 1
    assert "duplicate id" in result.problems[0].message and result.problems[0].line == 2
    chunk = result.chunks[0]
    assert chunk.kind is SnippetKind.INTERACTION and chunk.moment is MomentType.COMPLAINT
    assert chunk.text.startswith("Member post:\nMy hub is stuck")
    assert "Approved staff reply:\nSorry about that" in chunk.text
    assert chunk.metadata["interaction_id"] == "int-001"
    assert chunk.metadata["member_handle"] == "solderfox"
    assert chunk.metadata["outcome"] == "Recovered the same day"


def test_other_community_records_are_skipped_with_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "past.jsonl"
    path.write_text(GOOD_LINE.replace('"default"', '"other"'), encoding="utf-8")
    result = load_file(path, source="past.jsonl", community_id="default")
    assert result.chunks == []
    assert "--community other" in result.problems[0].hint


@pytest.mark.parametrize(
    ("name", "content", "message", "line"),
    [
        ("latin1.md", "# Caf\xe9\n\nok\n\nna\xefve\n".encode("latin-1"), "not UTF-8", 1),
        ("late.md", b"# Title\n\nfine\n\nbad \xff here\n", "not UTF-8", 5),
        ("empty.md", b"  \n\n", "empty", None),
        ("notes.docx", b"PK", "unsupported file type", None),
        ("broken.pdf", b"%PDF-1.4 garbage", "cannot read the PDF", None),
    ],
)
def test_bad_files_become_problems(
    tmp_path: Path, name: str, content: bytes, message: str, line: int | None
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = load_file(path, source=name)
    assert result.chunks == []
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert message in problem.message
    assert problem.line == line
    assert name in problem.file and problem.hint


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    result = load_file(tmp_path / "gone.md", source="gone.md")
    assert not result.readable
    assert result.problems[0].message == "file not found"
