"""Load the knowledge base into chunks: guidelines (Markdown, text, HTML, PDF) and past
interactions (JSONL, CSV).

Guidelines are split along their structure: headings first (the heading path, e.g.
"Playbook: complaints > Do > 1. Acknowledge the feeling", travels with every chunk), then
paragraphs, merging small ones and splitting long ones at about `CHUNK_SIZE` characters. A
playbook's `Moment: <type>` line right after its title tags all its chunks with that moment.
One past interaction is one chunk: the member's post and the approved reply, labelled.

Nothing here raises on bad input: every unreadable file, bad line or missing column becomes a
`Problem` (file, line, message, what to do) and the valid items still come through.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from copilot.types import MomentType, SnippetKind

CHUNK_SIZE = 1200
CHUNK_OVERLAP = 150
GUIDELINE_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
INTERACTION_SUFFIXES = (".jsonl", ".csv")
SUPPORTED_SUFFIXES = GUIDELINE_SUFFIXES + INTERACTION_SUFFIXES
CSV_REQUIRED = ("id", "post", "reply")
MetaValue = str | int | float | bool


class Problem(BaseModel):
    """One thing that could not be ingested, said so a person can fix it."""

    model_config = ConfigDict(extra="forbid")

    file: str
    line: int | None = None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}" + (f" ({self.hint})" if self.hint else "")


class Chunk(BaseModel):
    """A piece of the knowledge base, ready to embed and store."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    source: str
    title: str | None = None
    heading: str | None = None
    kind: SnippetKind
    moment: MomentType | None = None
    community_id: str = "default"
    content_hash: str
    metadata: dict[str, MetaValue] = Field(default_factory=dict)

    @property
    def embedding_text(self) -> str:
        """What gets embedded: the heading path (or title) gives the text its context."""
        lead = self.heading or self.title
        return f"{lead}\n\n{self.text}" if lead else self.text


class LoadResult(BaseModel):
    """The chunks of one file and its problems. `readable` is False when the file as a whole
    could not be read (the index then keeps what it had for it)."""

    chunks: list[Chunk] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    readable: bool = True


# Ids and hashes ---------------------------------------------------------------------------------


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_id(source: str, heading: str | None, ordinal: int) -> str:
    """Stable id: the same source, heading path and position give the same id."""
    key = f"{source}\x1f{heading or ''}\x1f{ordinal}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def display_path(path: Path) -> str:
    """The path as a person would type it: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def humanise(stem: str) -> str:
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else stem


# Reading files ----------------------------------------------------------------------------------


class _Unreadable(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def read_text(path: Path, file: str) -> str:
    """UTF-8 text (a BOM is fine). Raises `_Unreadable` with the line of the first bad byte."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _Unreadable(
            Problem(file=file, message="file not found", hint="check the path and try again")
        ) from None
    except OSError as exc:
        raise _Unreadable(
            Problem(
                file=file,
                message=f"cannot read the file: {exc.strerror or exc}",
                hint="check its permissions",
            )
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _Unreadable(
            Problem(
                file=file,
                line=line,
                message=f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line})",
                hint=f"re-save it as UTF-8, e.g. iconv -f latin1 -t utf-8 {file} > fixed{path.suffix}",
            )
        ) from None


def iter_files(directory: Path) -> Iterator[Path]:
    """Files under a folder, sorted; hidden files/folders and README files are skipped
    (a README describes the folder, it is not guidance)."""
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if any(part.startswith((".", "_")) for part in rel.parts):
            continue
        if path.is_file() and not path.stem.upper() == "README":
            yield path


def load_file(
    path: Path, *, source: str, community_id: str = "default", file: str | None = None
) -> LoadResult:
    """Load one file of any supported kind into chunks; never raises on bad input."""
    file = file or display_path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return LoadResult(
            readable=False,
            problems=[
                Problem(
                    file=file,
                    message=f"unsupported file type '{suffix or path.name}'",
                    hint="use Markdown, .txt, HTML or PDF for guidelines; JSONL or CSV for "
                    "past interactions",
                )
            ],
        )
    try:
        if suffix == ".pdf":
            return _load_pdf(path, source=source, community_id=community_id, file=file)
        text = read_text(path, file)
    except _Unreadable as exc:
        return LoadResult(readable=False, problems=[exc.problem])
    if not text.strip():
        return LoadResult(
            problems=[
                Problem(
                    file=file,
                    message="the document is empty",
                    hint="add content, or delete the file (its old chunks were removed)",
                )
            ]
        )
    if suffix in (".md", ".markdown"):
        chunks, problems = chunk_markdown(
            text, source=source, community_id=community_id, title=humanise(path.stem), file=file
        )
    elif suffix == ".txt":
        chunks, problems = (
            chunk_plain(text, source=source, community_id=community_id, title=humanise(path.stem)),
            [],
        )
    elif suffix in (".html", ".htm"):
        chunks, problems = chunk_markdown(
            html_to_markdown(text),
            source=source,
            community_id=community_id,
            title=humanise(path.stem),
            file=file,
        )
    elif suffix == ".jsonl":
        records, problems = parse_interactions_jsonl(text, file=file)
        chunks, more = _interaction_chunks(records, source, community_id, file)
        problems += more
    else:
        records, problems = parse_interactions_csv(text, file=file)
        chunks, more = _interaction_chunks(records, source, community_id, file)
        problems += more
    if not chunks and not problems:
        problems.append(
            Problem(file=file, message="no text found to index", hint="add some paragraphs")
        )
    return LoadResult(chunks=chunks, problems=problems)


# Guidelines -------------------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_MOMENT_LINE = re.compile(r"^[*_`\s]*moment[*_`\s]*:\s*[*_`]*\s*([A-Za-z_ -]+?)\s*[*_`]*\s*$", re.I)


def _splitter() -> object:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE,
        chunk_overlap=CHUNK_OVERLAP,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
    )


def split_paragraphs(text: str, size: int = CHUNK_SIZE) -> list[str]:
    """Paragraphs merged up to `size` characters; a longer paragraph is split recursively."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    pieces: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) <= size:
            pieces.append(paragraph)
        else:
            pieces.extend(_splitter().split_text(paragraph))  # type: ignore[attr-defined]
    merged: list[str] = []
    for piece in pieces:
        if merged and len(merged[-1]) + 2 + len(piece) <= size:
            merged[-1] = f"{merged[-1]}\n\n{piece}"
        else:
            merged.append(piece)
    return merged


class _Section(BaseModel):
    path: list[str]
    lines: list[str] = Field(default_factory=list)


def _parse_moment(value: str) -> MomentType | None:
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return MomentType(key)
    except ValueError:
        return None


def chunk_markdown(
    text: str,
    *,
    source: str,
    community_id: str = "default",
    title: str | None = None,
    file: str | None = None,
    kind: SnippetKind = SnippetKind.GUIDELINE,
) -> tuple[list[Chunk], list[Problem]]:
    """Split Markdown at headings (keeping the heading path), then by paragraphs."""
    problems: list[Problem] = []
    sections: list[_Section] = [_Section(path=[])]
    levels: list[int] = []
    doc_title: str | None = None
    moment: MomentType | None = None
    in_fence = False
    awaiting_moment = True  # the Moment line may only follow the title (or open the file)
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            level, name = len(heading.group(1)), heading.group(2).strip()
            path = list(sections[-1].path)
            while levels and levels[-1] >= level:
                levels.pop()
                path.pop()
            levels.append(level)
            path.append(name)
            sections.append(_Section(path=path))
            if doc_title is None and level == 1:
                doc_title = name
                awaiting_moment = len(sections) == 2  # the title is the first heading
            else:
                awaiting_moment = False
            continue
        if awaiting_moment and line.strip():
            awaiting_moment = False
            found = _MOMENT_LINE.match(line)
            if found:
                moment = _parse_moment(found.group(1))
                if moment is None:
                    problems.append(
                        Problem(
                            file=file or source,
                            line=number,
                            message=f"unknown moment '{found.group(1).strip()}'",
                            hint="use one of " + ", ".join(m.value for m in MomentType),
                        )
                    )
                continue
        sections[-1].lines.append(line)
    title = doc_title or title
    chunks: list[Chunk] = []
    ordinals: dict[str, int] = {}
    for section in sections:
        body = "\n".join(section.lines).strip()
        if not body:
            continue
        path_text = " > ".join(section.path) or None
        for piece in split_paragraphs(body):
            ordinal = ordinals.get(path_text or "", 0)
            ordinals[path_text or ""] = ordinal + 1
            chunks.append(
                Chunk(
                    id=chunk_id(source, path_text, ordinal),
                    text=piece,
                    source=source,
                    title=title,
                    heading=path_text,
                    kind=kind,
                    moment=moment,
                    community_id=community_id,
                    content_hash=sha256_text(piece),
                )
            )
    return chunks, problems


def chunk_plain(
    text: str, *, source: str, community_id: str = "default", title: str | None = None
) -> list[Chunk]:
    """Plain text: paragraphs, merged and split like Markdown sections (no headings)."""
    return [
        Chunk(
            id=chunk_id(source, None, ordinal),
            text=piece,
            source=source,
            title=title,
            kind=SnippetKind.GUIDELINE,
            community_id=community_id,
            content_hash=sha256_text(piece),
        )
        for ordinal, piece in enumerate(split_paragraphs(text))
    ]


_BLOCKS = ("p", "li", "pre", "blockquote", "tr", "dt", "dd", "div", "section", "article", "br")


def html_to_markdown(html: str) -> str:
    """Headings h1–h4 become Markdown headings; block elements become paragraphs."""
    from bs4 import BeautifulSoup
    from bs4.element import NavigableString

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript", "template"]):
        tag.decompose()
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    for level in range(1, 7):
        for tag in soup.find_all(f"h{level}"):
            name = " ".join(tag.get_text(" ", strip=True).split())
            marker = "#" * level if level <= 4 else ""
            tag.replace_with(NavigableString(f"\n\n{marker} {name}\n\n" if marker else name))
    for tag in soup.find_all(_BLOCKS):
        tag.insert_after(NavigableString("\n\n"))
    lines = [" ".join(line.split()) for line in soup.get_text().splitlines()]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if page_title and not body.startswith("# "):
        body = f"# {page_title}\n\n{body}"
    return body


def _load_pdf(path: Path, *, source: str, community_id: str, file: str) -> LoadResult:
    from pypdf import PdfReader

    if not path.is_file():
        return LoadResult(
            readable=False,
            problems=[Problem(file=file, message="file not found", hint="check the path")],
        )
    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = reader.metadata.title if reader.metadata else None
    except Exception as exc:  # pypdf raises many types for broken or encrypted files
        return LoadResult(
            readable=False,
            problems=[
                Problem(
                    file=file,
                    message=f"cannot read the PDF: {exc}",
                    hint="export it again as a text PDF (not a scan or an encrypted file)",
                )
            ],
        )
    title = str(meta_title).strip() if meta_title else humanise(path.stem)
    chunks: list[Chunk] = []
    for number, page_text in enumerate(pages, start=1):
        heading = f"Page {number}"
        for ordinal, piece in enumerate(split_paragraphs(page_text)):
            chunks.append(
                Chunk(
                    id=chunk_id(source, heading, ordinal),
                    text=piece,
                    source=source,
                    title=title,
                    heading=heading,
                    kind=SnippetKind.GUIDELINE,
                    community_id=community_id,
                    content_hash=sha256_text(piece),
                )
            )
    if not chunks:
        return LoadResult(
            problems=[
                Problem(
                    file=file,
                    message="the PDF has no extractable text",
                    hint="it may be a scan; export a text version (Markdown works best)",
                )
            ]
        )
    return LoadResult(chunks=chunks)


# Past interactions ------------------------------------------------------------------------------


class InteractionMember(BaseModel):
    model_config = ConfigDict(extra="ignore")

    handle: str | None = None
    name: str | None = None
    joined_at: date | None = None
    post_count: int | None = Field(default=None, ge=0)
    roles: list[str] = Field(default_factory=list)
    badges: list[str] = Field(default_factory=list)


class InteractionRecord(BaseModel):
    """One past interaction (the JSONL/CSV schema in knowledge/README.md)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    moment: MomentType | None = None
    community_id: str | None = None
    created_at: date | None = None
    title: str | None = None
    post: str = Field(min_length=1)
    reply: str = Field(min_length=1)
    member: InteractionMember = Field(default_factory=InteractionMember)
    staff: str | None = None
    outcome: str | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("id", "post", "reply", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


def _explain(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        field = ".".join(str(p) for p in item["loc"]) or "record"
        parts.append(f"field '{field}': {item['msg']}")
    return "; ".join(parts)


def parse_interactions_jsonl(
    text: str, *, file: str
) -> tuple[list[tuple[int, InteractionRecord]], list[Problem]]:
    """(line number, record) for every valid line; a Problem for every bad one."""
    records: list[tuple[int, InteractionRecord]] = []
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(
                Problem(
                    file=file,
                    line=number,
                    message=f"invalid JSON: {exc.msg} at column {exc.colno}",
                    hint="each line must be one complete JSON object",
                )
            )
            continue
        if not isinstance(data, dict):
            problems.append(
                Problem(
                    file=file,
                    line=number,
                    message="the line is not a JSON object",
                    hint='write {"id": ..., "post": ..., "reply": ...} on each line',
                )
            )
            continue
        _validate(data, number, file, records, problems)
    return records, problems


def _validate(
    data: dict[str, object],
    number: int,
    file: str,
    records: list[tuple[int, InteractionRecord]],
    problems: list[Problem],
) -> None:
    try:
        records.append((number, InteractionRecord.model_validate(data)))
    except ValidationError as exc:
        problems.append(
            Problem(
                file=file,
                line=number,
                message=_explain(exc),
                hint="fix the field (schema in knowledge/README.md); the other lines were indexed",
            )
        )


def _list_field(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(";") if item.strip()]


def parse_interactions_csv(
    text: str, *, file: str
) -> tuple[list[tuple[int, InteractionRecord]], list[Problem]]:
    """CSV with the JSONL columns; member fields flattened as member_handle, ...; lists use ';'."""
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in CSV_REQUIRED if c not in columns]
    if missing:
        return [], [
            Problem(
                file=file,
                line=1,
                message=f"missing column(s): {', '.join(missing)}",
                hint="the header must include " + ", ".join(CSV_REQUIRED) + " (see "
                "knowledge/README.md)",
            )
        ]
    records: list[tuple[int, InteractionRecord]] = []
    problems: list[Problem] = []
    previous_end = reader.line_num
    for row in reader:
        number = previous_end + 1
        previous_end = reader.line_num
        row = {(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
        if not any(row.values()):
            continue
        data: dict[str, object] = {
            k: v for k, v in row.items() if k and not k.startswith("member_") and v not in ("",)
        }
        data["tags"] = _list_field(row.get("tags"))
        member: dict[str, object] = {
            k.removeprefix("member_"): v
            for k, v in row.items()
            if k.startswith("member_") and v not in ("", None)
        }
        for key in ("roles", "badges"):
            member[key] = _list_field(row.get(f"member_{key}"))
        data["member"] = member
        _validate(data, number, file, records, problems)
    return records, problems


def interaction_text(record: InteractionRecord) -> str:
    """The chunk text: the member's post and the approved reply, clearly labelled."""
    return f"Member post:\n{record.post}\n\nApproved staff reply:\n{record.reply}"


def interaction_chunk(
    record: InteractionRecord,
    *,
    source: str,
    community_id: str,
    extra: dict[str, MetaValue] | None = None,
) -> Chunk:
    text = interaction_text(record)
    metadata: dict[str, MetaValue] = {"interaction_id": record.id}
    for key, value in (
        ("member_handle", record.member.handle),
        ("outcome", record.outcome),
        ("staff", record.staff),
        ("created_at", record.created_at.isoformat() if record.created_at else None),
        ("tags", ", ".join(record.tags) if record.tags else None),
    ):
        if value:
            metadata[key] = value
    metadata.update(extra or {})
    heading = f"Interaction {record.id}"
    return Chunk(
        id=chunk_id(source, heading, 0),
        text=text,
        source=source,
        title=record.title or heading,
        heading=heading,
        kind=SnippetKind.INTERACTION,
        moment=record.moment,
        community_id=community_id,
        content_hash=sha256_text(text),
        metadata=metadata,
    )


def _interaction_chunks(
    records: Iterable[tuple[int, InteractionRecord]], source: str, community_id: str, file: str
) -> tuple[list[Chunk], list[Problem]]:
    chunks: list[Chunk] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, record in records:
        if record.community_id and record.community_id != community_id:
            problems.append(
                Problem(
                    file=file,
                    line=number,
                    message=f"interaction {record.id} belongs to community "
                    f"'{record.community_id}', not '{community_id}'; skipped",
                    hint=f"index it with --community {record.community_id}",
                )
            )
            continue
        if record.id in seen:
            problems.append(
                Problem(
                    file=file,
                    line=number,
                    message=f"duplicate id '{record.id}' (first at line {seen[record.id]}); "
                    "skipped",
                    hint="give every interaction a unique id",
                )
            )
            continue
        seen[record.id] = number
        chunks.append(interaction_chunk(record, source=source, community_id=community_id))
    return chunks, problems
