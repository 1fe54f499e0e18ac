"""KnowledgeIndex over a real embedded Chroma in tmp_path, with the FakeEmbedder."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from copilot import guard
from copilot.embeddings import FakeEmbedder, OpenAIEmbedder, SentenceTransformerEmbedder
from copilot.errors import IndexError_, LLMUnavailableError
from copilot.retrieval import KnowledgeIndex, collection_name, open_index
from copilot.settings import load_settings
from copilot.types import MomentType, Post, SnippetKind

COMPLAINTS = """# Playbook: complaints
Moment: complaint

## Do

Acknowledge the frustration about the broken hub, own the problem, give a next step.

## Refunds

Refunds go through the store support ticket within 30 days of delivery.
"""

WELCOME = """# Playbook: welcoming newcomers
Moment: welcome

## Do

Greet the newcomer by name and point to the getting started guide for the hub.
"""

GUIDE = """# Community guidelines

## Privacy

Never ask members to post email addresses or phone numbers in public threads.
"""


def interaction(id_: str, moment: str, post: str, reply: str, **extra: object) -> str:
    record = {"id": id_, "moment": moment, "post": post, "reply": reply, **extra}
    return json.dumps(record)


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    (root / "guidelines").mkdir(parents=True)
    (root / "interactions").mkdir()
    (root / "guidelines" / "playbook-complaints.md").write_text(COMPLAINTS, encoding="utf-8")
    (root / "guidelines" / "playbook-welcome.md").write_text(WELCOME, encoding="utf-8")
    (root / "guidelines" / "community-guidelines.md").write_text(GUIDE, encoding="utf-8")
    lines = [
        interaction(
            "int-001",
            "complaint",
            "My hub bricked after the firmware update, furious",
            "I'm sorry, that is on us. Here is the recovery guide.",
            member={"handle": "solderfox"},
            outcome="recovered",
        ),
        interaction(
            "int-002",
            "welcome",
            "Hi everyone, new here with my first hub",
            "Welcome aboard! The getting started guide is a good first stop.",
        ),
    ]
    (root / "interactions" / "past.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def index(tmp_path: Path, embedder: FakeEmbedder) -> KnowledgeIndex:
    settings = load_settings(data_dir=tmp_path / "data", knowledge_dir=tmp_path / "kb")
    return open_index(settings, embedder=embedder)


def test_index_then_search_by_kind_and_moment(index: KnowledgeIndex, kb: Path) -> None:
    report = index.index_paths([kb])
    assert report.problems == []
    assert report.files_seen == report.files_indexed == 4
    assert report.chunks_added == report.chunks_embedded == 6
    stats = index.stats()
    assert (stats.guidelines, stats.interactions, stats.sources) == (4, 2, 4)

    hits = index.search("hub bricked firmware update", k=3)
    assert hits[0].source == "interactions/past.jsonl"
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    guidelines = index.search("hub bricked firmware update", k=5, kind=SnippetKind.GUIDELINE)
    assert guidelines and {h.kind for h in guidelines} == {SnippetKind.GUIDELINE}
    examples = index.search("newcomer hub", k=5, kind=SnippetKind.INTERACTION)
    assert {h.kind for h in examples} == {SnippetKind.INTERACTION}
    assert examples[0].metadata.get("interaction_id") in {"int-001", "int-002"}

    welcome = index.search("hub", k=5, moment=MomentType.WELCOME)
    assert welcome and {h.moment for h in welcome} == {MomentType.WELCOME}
    sources = {h.source for h in welcome}
    assert sources == {"guidelines/playbook-welcome.md", "interactions/past.jsonl"}


def test_community_is_a_collection_choice(index: KnowledgeIndex, kb: Path) -> None:
    index.index_paths([kb / "guidelines"])
    index.index_paths([kb / "guidelines" / "playbook-welcome.md"], community_id="other")
    assert len(index.search("newcomer hub guide", k=10)) == 4
    other = index.search("newcomer hub guide", k=10, community_id="other")
    assert [(h.community_id, h.source) for h in other] == [
        ("other", "guidelines/playbook-welcome.md")
    ]
    assert collection_name("our forum!", SnippetKind.GUIDELINE) == "moments-our_forum_-guidelines"


def test_second_run_embeds_nothing(index: KnowledgeIndex, kb: Path, embedder: FakeEmbedder) -> None:
    index.index_paths([kb])
    embedded = embedder.texts_embedded
    report = index.index_paths([kb])
    assert embedder.texts_embedded == embedded
    assert (report.chunks_added, report.chunks_updated, report.chunks_embedded) == (0, 0, 0)
    assert report.chunks_unchanged == 6 and report.indexed_anything


def test_changed_file_replaces_only_its_changed_chunks(
    index: KnowledgeIndex, kb: Path, embedder: FakeEmbedder
) -> None:
    index.index_paths([kb])
    before = embedder.texts_embedded
    path = kb / "guidelines" / "playbook-complaints.md"
    path.write_text(
        COMPLAINTS.replace("within 30 days of delivery", "within 14 days of delivery")
        + "\n## Escalation\n\nTag the support lead when a member waits more than a day.\n",
        encoding="utf-8",
    )
    report = index.index_paths([kb])
    assert (report.chunks_added, report.chunks_updated, report.chunks_removed) == (1, 1, 0)
    assert embedder.texts_embedded == before + 2
    hits = index.search("refunds store support ticket days delivery", k=1)
    assert "14 days" in hits[0].text
    everything = index.search("refunds store support ticket days delivery", k=20)
    assert not any("30 days" in h.text for h in everything)

    path.write_text(COMPLAINTS.split("## Refunds")[0], encoding="utf-8")
    report = index.index_paths([path])
    assert report.chunks_removed == 2  # Refunds and Escalation sections are gone


def test_moment_change_updates_metadata_without_embedding(
    index: KnowledgeIndex, kb: Path, embedder: FakeEmbedder
) -> None:
    index.index_paths([kb])
    before = embedder.texts_embedded
    path = kb / "guidelines" / "playbook-welcome.md"
    path.write_text(WELCOME.replace("Moment: welcome", "Moment: first_question"), "utf-8")
    report = index.index_paths([kb])
    assert embedder.texts_embedded == before
    assert report.chunks_unchanged == 6
    hits = index.search("greet newcomer", k=5, kind=SnippetKind.GUIDELINE)
    welcome = [h for h in hits if h.source.endswith("playbook-welcome.md")]
    assert welcome and welcome[0].moment is MomentType.FIRST_QUESTION


def test_removed_file_leaves_the_index(index: KnowledgeIndex, kb: Path) -> None:
    index.index_paths([kb])
    (kb / "guidelines" / "playbook-welcome.md").unlink()
    report = index.index_paths([kb])
    assert report.sources_removed == ["guidelines/playbook-welcome.md"]
    assert report.chunks_removed == 1
    sources = {s.source for s in index.list_sources()}
    assert "guidelines/playbook-welcome.md" not in sources
    # indexing a sibling folder never prunes what lives elsewhere
    (kb / "guidelines" / "community-guidelines.md").unlink()
    index.index_paths([kb / "interactions"])
    assert "guidelines/community-guidelines.md" in {s.source for s in index.list_sources()}


def test_bad_input_is_reported_while_valid_items_are_indexed(
    index: KnowledgeIndex, kb: Path
) -> None:
    (kb / "guidelines" / "latin1.md").write_bytes("# Caf\xe9\n".encode("latin-1"))
    (kb / "guidelines" / "empty.txt").write_text("\n", encoding="utf-8")
    (kb / "guidelines" / "notes.yaml").write_text("a: 1\n", encoding="utf-8")
    bad_jsonl = kb / "interactions" / "more.jsonl"
    bad_jsonl.write_text(
        interaction("int-010", "complaint", "late order", "sorry, checking now")
        + '\n{"id": "int-011", "post": "no reply"}\n{broken\n',
        encoding="utf-8",
    )
    (kb / "interactions" / "partial.csv").write_text("id,post\nint-20,hi\n", encoding="utf-8")
    report = index.index_paths([kb, kb / "missing.md", kb / "no-such-folder"])
    problems = {(Path(p.file).name, p.line) for p in report.problems}
    assert problems == {
        ("latin1.md", 1),
        ("empty.txt", None),
        ("more.jsonl", 2),
        ("more.jsonl", 3),
        ("partial.csv", 1),
        ("missing.md", None),
        ("no-such-folder", None),
    }
    assert any("reply" in p.message for p in report.problems if p.line == 2)
    assert report.skipped and report.skipped[0].endswith("notes.yaml")
    assert report.indexed_anything
    hits = index.search("late order", k=10, kind=SnippetKind.INTERACTION)
    assert "int-010" in {h.metadata.get("interaction_id") for h in hits}


def test_unreadable_file_keeps_its_previous_chunks(index: KnowledgeIndex, kb: Path) -> None:
    index.index_paths([kb])
    path = kb / "guidelines" / "community-guidelines.md"
    path.write_bytes(GUIDE.replace("Privacy", "Privac\xff").encode("latin-1"))
    report = index.index_paths([kb])
    assert report.problems and report.chunks_removed == 0
    assert "guidelines/community-guidelines.md" in {s.source for s in index.list_sources()}


def test_add_interaction_masks_pii_and_records_the_review(index: KnowledgeIndex) -> None:
    post = Post(text="My hub died, reach me at jo@example.com", title="Dead hub")
    snippet = index.add_interaction(
        post,
        "Sorry Jo, a replacement ticket is the next step.",
        reviewer="Maya Okafor",
        moment=MomentType.COMPLAINT,
        edit_ratio=0.25,
        interaction_id="draft-7",
    )
    assert "jo@example.com" not in snippet.text
    hits = index.search("hub died", k=1, kind=SnippetKind.INTERACTION)
    assert hits[0].id == snippet.id
    assert hits[0].metadata["reviewer"] == "Maya Okafor"
    assert hits[0].metadata["edit_ratio"] == 0.25
    assert hits[0].moment is MomentType.COMPLAINT
    assert "jo@example.com" not in hits[0].text
    index.add_interaction(post, "Updated reply", reviewer="Dev Patel", interaction_id="draft-7")
    assert index.stats().interactions == 1


def test_sources_list_and_delete(index: KnowledgeIndex, kb: Path) -> None:
    index.index_paths([kb])
    listed = {s.source: s for s in index.list_sources()}
    assert listed["interactions/past.jsonl"].kind is SnippetKind.INTERACTION
    assert listed["interactions/past.jsonl"].chunks == 2
    assert listed["guidelines/playbook-complaints.md"].last_indexed
    assert index.delete_source("interactions/past.jsonl") == 2
    assert index.delete_source("interactions/past.jsonl") == 0
    assert index.stats().interactions == 0


def test_hybrid_ranking_returns_scored_snippets(index: KnowledgeIndex, kb: Path) -> None:
    index.index_paths([kb])
    index.hybrid = True
    hits = index.search("refunds within 30 days", k=3)
    assert hits[0].heading == "Playbook: complaints > Refunds"
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    welcome = index.search("refunds", k=3, moment=MomentType.WELCOME)
    assert welcome and {h.moment for h in welcome} == {MomentType.WELCOME}


def test_another_embedder_cannot_reuse_the_index(tmp_path: Path, kb: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    open_index(settings, embedder=FakeEmbedder()).index_paths([kb])
    other = open_index(settings, embedder=FakeEmbedder(32))
    with pytest.raises(IndexError_, match="rebuild"):
        other.search("hub")
    other.reset()
    assert other.index_paths([kb]).chunks_added == 6


def test_corrupt_index_directory_is_a_clear_error(tmp_path: Path) -> None:
    chroma = tmp_path / "data" / "chroma"
    chroma.mkdir(parents=True)
    (chroma / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexError_) as caught:
        open_index(load_settings(data_dir=tmp_path / "data"), embedder=FakeEmbedder())
    assert str(chroma) in str(caught.value) and "moments index" in str(caught.value)


def test_unreachable_chroma_server_is_a_clear_error(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", chroma_url="http://127.0.0.1:9")
    with pytest.raises(IndexError_, match="MOMENTS_CHROMA_URL"):
        open_index(settings, embedder=FakeEmbedder())


def test_empty_query_returns_nothing(index: KnowledgeIndex) -> None:
    assert index.search("   ") == []


def test_bundled_embedder_is_forbidden_in_unit_tests() -> None:
    with pytest.raises(guard.RealModelCallForbidden):
        SentenceTransformerEmbedder().embed(["hello"])


def test_fake_embedder_is_deterministic_and_normalised() -> None:
    a, b = FakeEmbedder().embed(["refund policy", "refund policy"])
    assert a == b and len(a) == 64
    assert abs(sum(x * x for x in a) - 1.0) < 1e-9
    assert FakeEmbedder().embed_query("") != [0.0] * 64


def test_openai_embedder_batches_normalises_and_reports_outages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(guard, "ALLOW_REAL_MODELS", True)  # a mock transport, no real server
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        assert request.headers["Authorization"] == "Bearer sk-test"
        data = [{"index": i, "embedding": [3.0, 4.0]} for i in range(len(body["input"]))]
        return httpx.Response(200, json={"data": list(reversed(data))})

    embedder = OpenAIEmbedder(
        "http://embed.test/v1",
        model="text-embedding-3-small",
        api_key="sk-test",
        batch_size=2,
        transport=httpx.MockTransport(handler),
    )
    vectors = embedder.embed(["a", "b", "c"])
    assert vectors == [[0.6, 0.8]] * 3
    assert [len(b["input"]) for b in seen] == [2, 1]  # type: ignore[arg-type]
    assert embedder.dimension == 2 and embedder.name == "openai/text-embedding-3-small"

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    broken = OpenAIEmbedder("http://embed.test/v1", model="m", transport=httpx.MockTransport(down))
    with pytest.raises(LLMUnavailableError, match="MOMENTS_EMBEDDING_BASE_URL"):
        broken.embed_query("hello")


def test_moment_filter_falls_back_when_the_nearest_chunks_lack_it(
    index: KnowledgeIndex, tmp_path: Path
) -> None:
    kb = tmp_path / "many"
    kb.mkdir()
    sections = "\n".join(
        f"## Apples {i}\n\nApples apples orchard harvest {i}.\n" for i in range(130)
    )
    (kb / "apples.md").write_text(f"# Apples\nMoment: welcome\n\n{sections}", encoding="utf-8")
    (kb / "outage.md").write_text(
        "# Outage\nMoment: crisis\n\n## One\n\nServers down.\n\n## Two\n\nStatus page.\n",
        encoding="utf-8",
    )
    index.index_paths([kb])
    # the 100 nearest chunks to "apples" are all welcome chunks: the where filter must kick in
    hits = index.search("apples orchard harvest", k=2, moment=MomentType.CRISIS)
    assert sorted(h.heading or "" for h in hits) == ["Outage > One", "Outage > Two"]
    assert all(h.text for h in hits)
    near = index.search("apples orchard harvest", k=3, moment=MomentType.WELCOME)
    assert len(near) == 3 and all(h.text.startswith("Apples apples") for h in near)


def test_repeated_queries_are_embedded_once(
    index: KnowledgeIndex, kb: Path, embedder: FakeEmbedder
) -> None:
    index.index_paths([kb])
    before = embedder.calls
    for kind in (SnippetKind.GUIDELINE, SnippetKind.INTERACTION, None):
        index.search("hub bricked after the update", k=2, kind=kind)
    assert embedder.calls == before + 1
    index.search("another query", k=2)
    assert embedder.calls == before + 2
