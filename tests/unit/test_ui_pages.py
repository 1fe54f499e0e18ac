"""The Streamlit pages (AppTest) against the real API served in-process by uvicorn on a loopback
port: SQLite in tmp, a FakeChatModel, a FakeEmbedder index, a loopback Discourse."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from ui.testing import Stack, free_port, seed_draft, start_stack

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
TIMEOUT = 30


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    served = start_stack(tmp_path_factory.mktemp("ui-api"))
    yield served
    served.close()


@pytest.fixture(autouse=True)
def api_env(stack: Stack, tmp_path: Path) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("MOMENTS_API_URL", "MOMENTS_EVAL_RUNS_DIR")}
    os.environ["MOMENTS_API_URL"] = stack.url
    # the API reads runs from its settings' folder; each test starts with it empty
    runs = stack.settings.resolved_eval_runs_dir
    shutil.rmtree(runs, ignore_errors=True)
    os.environ["MOMENTS_EVAL_RUNS_DIR"] = str(runs)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def app(key: str | None = None, role: str = "reviewer") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if key:
        at.session_state["api_key"] = key
        at.session_state["api_role"] = role
    return at


def page(at: AppTest, path: str, **state: Any) -> AppTest:
    """Run once (so st.navigation registers the pages), then open `path`."""
    at.run()
    for name, value in state.items():
        at.session_state[name] = value
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [t.value for t in at.title] + [s.value for s in at.subheader]
    parts += [e.label for e in at.expander]
    return "\n".join(str(p) for p in parts)


def messages(at: AppTest, kind: str) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def draft_status(stack: Stack, draft_id: int) -> str:
    return str(stack.store.get_draft(draft_id).status)


# Sign-in ---------------------------------------------------------------------------------------


def test_bad_key_shows_a_sign_in_error(stack: Stack) -> None:
    at = app()
    at.run()
    assert "Sign in" in texts(at)
    at.text_input[0].input("mk_not-a-real-key")
    at.button[0].click().run()
    assert not at.exception
    assert "not valid" in messages(at, "error")
    assert "api_key" not in at.session_state


def test_reviewer_key_signs_in_and_lands_on_the_queue(stack: Stack) -> None:
    at = app()
    at.run()
    at.text_input[0].input(stack.keys["reviewer"])
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["api_role"] == "reviewer"
    assert at.session_state["api_name"] == "reviewer-key"  # from GET /v1/me
    at.switch_page("pages/queue.py").run()
    assert not at.exception
    assert "Review queue" in texts(at)
    named = app(stack.keys["reviewer"])
    named.session_state["api_name"] = "reviewer-key"
    named.run()
    assert "Signed in as **reviewer-key** (reviewer)" in [c.value for c in named.sidebar.caption]


def test_plugin_key_is_refused(stack: Stack) -> None:
    at = app()
    at.run()
    at.text_input[0].input(stack.keys["plugin"])
    at.button[0].click().run()
    assert "plugin key" in messages(at, "error")
    assert "api_key" not in at.session_state


def test_api_down_is_a_readable_error_not_an_exception(stack: Stack) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    os.environ["MOMENTS_API_URL"] = down
    at = app()
    at.run()
    at.text_input[0].input(stack.keys["reviewer"])
    at.button[0].click().run()
    assert not at.exception
    assert f"Cannot reach the Moments API at {down}" in messages(at, "error")
    assert "moments serve" in messages(at, "error")

    signed = app(stack.keys["reviewer"])
    signed.run()
    assert not signed.exception
    assert f"Cannot reach the Moments API at {down}" in messages(signed, "error")


# Queue -----------------------------------------------------------------------------------------


def test_queue_lists_the_pending_draft_with_counts(stack: Stack) -> None:
    draft_id = seed_draft(stack)
    at = app(stack.keys["reviewer"])
    at.run()
    assert not at.exception
    assert "Hub offline after the LumenOS 3.3 update" in texts(at)
    assert f"draft #{draft_id}" in texts(at)
    totals = {m.label: m.value for m in at.metric}
    assert int(totals["Pending drafts"]) >= 1
    assert int(totals["Complaint"]) >= 1
    assert at.button(key=f"open_{draft_id}")


def test_queue_filter_with_no_match_says_so(stack: Stack) -> None:
    seed_draft(stack)
    at = app(stack.keys["reviewer"])
    at.run()
    at.selectbox(key="q_moment").set_value("milestone").run()
    assert not at.exception
    assert "No drafts match these filters." in messages(at, "info")


def test_open_button_goes_to_the_review_page(stack: Stack) -> None:
    draft_id = seed_draft(stack)
    at = app(stack.keys["reviewer"])
    at.run()
    at.button(key=f"open_{draft_id}").click().run()
    assert not at.exception
    assert f"Draft #{draft_id}" in texts(at)


# Review ----------------------------------------------------------------------------------------


def review(stack: Stack, draft_id: int, role: str = "reviewer") -> AppTest:
    return page(app(stack.keys[role], role), "pages/review.py", draft_id=draft_id)


def test_review_shows_text_citations_tone_prompt_and_masking(stack: Stack) -> None:
    draft_id = seed_draft(stack)
    at = review(stack, draft_id)
    body = texts(at)
    record = stack.store.get_draft(draft_id)
    assert at.text_area(key=f"text_{draft_id}_1").value == record.text
    assert "Sam Rivera" in body and "member for" in body and "42 posts" in body
    assert "Early adopter" in body
    assert "Same here on 3.3" in body  # thread context
    assert "playbook-negative-feedback.md" in body  # citation expander
    assert "Acknowledge the problem in the member" in body  # its snippet
    assert "Overall tone" in [m.label for m in at.metric]
    assert "Evidence behind each score" in body
    assert "**personalization** (" in body  # a dimension and its evidence phrases
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")  # the tone bars
    assert "Show the exact prompt" in body
    assert any("You are a community manager" in c.value for c in at.code)
    assert "Personal data masked before drafting (1)" in body
    assert at.button(key=f"variant_{draft_id}_0")


def test_approving_in_the_ui_approves_and_publishes_through_the_api(stack: Stack) -> None:
    draft_id = seed_draft(stack)
    before = len(stack.forum.posted())
    at = review(stack, draft_id)
    at.button(key=f"approve_{draft_id}").click().run()
    assert not at.exception
    assert draft_status(stack, draft_id) == "published"
    assert len(stack.forum.posted()) == before + 1
    assert "published as post" in messages(at, "success").lower()
    audit = at.table[-1].value
    assert {"approved", "published"} <= set(audit["what"])
    assert "reviewer-key" in set(audit["who"])


def test_approve_with_edits_sends_the_edited_text(stack: Stack) -> None:
    draft_id = seed_draft(stack)
    at = review(stack, draft_id)
    assert at.button(key=f"approve_edits_{draft_id}").disabled
    at.toggle(key=f"publish_after_{draft_id}").set_value(False)
    edited = "Hi Sam, sorry about the dropouts. Roll back to 3.2 from Settings > Firmware."
    at.text_area(key=f"text_{draft_id}_1").input(edited).run()
    at.button(key=f"approve_edits_{draft_id}").click().run()
    assert not at.exception
    record = stack.store.get_draft(draft_id)
    assert record.status == "approved" and record.text == edited
    assert at.button(key=f"publish_{draft_id}")  # approved but not yet published


def test_editing_rescores_the_tone_live(stack: Stack) -> None:
    draft_id = seed_draft(stack)
    at = review(stack, draft_id)
    at.text_area(key=f"text_{draft_id}_1").input(
        "We guarantee a full refund and this will never happen again. You should have read the "
        "manual."
    ).run()
    assert not at.exception
    assert any("Scored on the edited text" in c.value for c in at.caption)
    flagged = messages(at, "error") + messages(at, "warning")
    assert "over promising" in flagged or "blame" in flagged


def test_reject_needs_a_reason(stack: Stack) -> None:
    draft_id = seed_draft(stack)
    at = review(stack, draft_id)
    at.button(key=f"reject_{draft_id}").click().run()
    assert "A reason is required" in messages(at, "error")
    assert draft_status(stack, draft_id) == "pending"
    at.text_input(key=f"reason_{draft_id}").input("Promises a date we cannot keep").run()
    at.button(key=f"reject_{draft_id}").click().run()
    assert not at.exception
    assert draft_status(stack, draft_id) == "rejected"
    assert "Promises a date we cannot keep" in messages(at, "info")


def test_approval_by_someone_else_is_said_plainly(stack: Stack) -> None:
    draft_id = seed_draft(stack)
    at = review(stack, draft_id)
    from copilot import review as review_rules

    review_rules.approve(stack.store, draft_id, "Maya Okafor")
    at.run()
    assert not at.exception
    assert "Already approved by Maya Okafor" in messages(at, "warning")
    assert not [b for b in at.button if b.key == f"approve_{draft_id}"]


def test_an_edit_by_someone_else_makes_approval_a_readable_conflict(stack: Stack) -> None:
    draft_id = seed_draft(stack)
    at = review(stack, draft_id)
    from copilot import review as review_rules

    review_rules.edit(stack.store, draft_id, "Dev Patel", "Hi Sam, Dev here: roll back to 3.2.")
    at.button(key=f"approve_{draft_id}").click().run()
    assert not at.exception
    assert "changed this draft while you were reviewing" in messages(at, "error")
    assert draft_status(stack, draft_id) == "pending"


def test_regenerate_queues_a_job_with_the_instruction(stack: Stack) -> None:
    draft_id = seed_draft(stack)
    at = review(stack, draft_id)
    at.button_group(key=f"quick_{draft_id}").set_value(["shorter"]).run()
    at.button(key=f"regen_{draft_id}").click().run()
    assert not at.exception
    job_id = at.session_state[f"regen_job_{draft_id}"]
    job = stack.store.get_job(int(job_id))
    assert job.kind == "regenerate" and job.instruction == "shorter"


def test_review_without_a_draft_has_an_empty_state(stack: Stack) -> None:
    at = page(app(stack.keys["reviewer"]), "pages/review.py")
    assert "Pick a draft from the queue" in messages(at, "info")


def test_unknown_draft_is_a_readable_error(stack: Stack) -> None:
    at = page(app(stack.keys["reviewer"]), "pages/review.py", draft_id=999_999)
    assert "999999" in messages(at, "error")


# Crisis ----------------------------------------------------------------------------------------


def test_crisis_form_drafts_statements_per_channel(stack: Stack) -> None:
    at = page(app(stack.keys["reviewer"]), "pages/crisis.py")
    values = {
        "Title *": "Lumen Cloud sync outage",
        "Started at *": "14:05 UTC on 3 March",
        "Who or what is affected *": "Remote access and scene backup",
        "Next update at *": "16:00 UTC",
    }
    for widget in at.text_input:
        if widget.label in values:
            widget.input(values[widget.label])
    for widget in at.text_area:
        if widget.label == "What happened *":
            widget.input("Cloud sync stopped for members in Europe.")
        if widget.label == "Known (one per line)":
            widget.input("Local control still works")
    next(b for b in at.button if b.label == "Draft statements").click().run()
    assert not at.exception
    deadline = time.monotonic() + 60
    while "incident" not in at.session_state and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    assert not at.exception
    assert "incident" in at.session_state, messages(at, "error")
    body = texts(at)
    for channel in ("Forum", "Banner", "Email", "Social"):
        assert f"**{channel}**" in body
    assert "/ 280 characters" in body
    incident_id = at.session_state["incident"]["id"]
    approve = next(b for b in at.button if b.key and b.key.endswith("_approve"))
    approve.click().run()
    assert not at.exception
    statuses = {s.status for s in stack.store.list_statements(incident_id=incident_id)}
    assert "approved" in statuses
    reject = next(b for b in at.button if b.key and b.key.endswith("_reject"))
    reject.click().run()
    assert "A reason is required to reject a statement." in messages(at, "error")
    assert "rejected" not in {
        s.status for s in stack.store.list_statements(incident_id=incident_id)
    }


def test_crisis_form_names_missing_facts(stack: Stack) -> None:
    at = page(app(stack.keys["reviewer"]), "pages/crisis.py")
    next(b for b in at.button if b.label == "Draft statements").click().run()
    assert "Fill in: title" in messages(at, "error")


# Knowledge -------------------------------------------------------------------------------------


def test_knowledge_lists_sources_and_searches(stack: Stack, tmp_path: Path) -> None:
    guide = tmp_path / "ui-guide.md"
    guide.write_text(
        "# Tone\n\n## Apologise once\n\nSay sorry once, own it, and give one next step.\n",
        encoding="utf-8",
    )
    stack.app.state.index.index_paths([guide])
    at = page(app(stack.keys["admin"], "admin"), "pages/knowledge.py")
    frame = at.dataframe[0].value
    assert any("ui-guide.md" in str(s) for s in frame["source"])
    at.text_input[0].input("apologise next step")
    search = next(b for b in at.button if b.label == "Search")
    search.click().run()
    assert not at.exception
    assert "ui-guide.md" in texts(at)
    assert "score" in texts(at)


def test_knowledge_upload_is_admin_only(stack: Stack) -> None:
    at = page(app(stack.keys["reviewer"]), "pages/knowledge.py")
    assert "needs an admin key" in messages(at, "info")


# Evals -----------------------------------------------------------------------------------------


def test_evals_empty_state_says_how_to_make_a_run(stack: Stack) -> None:
    at = page(app(stack.keys["reviewer"]), "pages/evals.py")
    assert "moments eval run evals/suites/default.yaml" in messages(at, "info")


def test_evals_names_files_that_are_not_runs(stack: Stack, tmp_path: Path) -> None:
    runs = stack.settings.resolved_eval_runs_dir
    runs.mkdir()
    (runs / "notes.json").write_text(json.dumps({"scores": {"warmth": 0.8}}), encoding="utf-8")
    at = page(app(stack.keys["reviewer"]), "pages/evals.py")
    assert "Skipped notes.json: not a run" in messages(at, "warning")
    assert "moments eval run evals/suites/default.yaml" in messages(at, "info")
    assert str(runs) in texts(at)  # where the API looked


def native_run(run_id: str, started: str, warmth: float, passed: bool) -> dict[str, Any]:
    """A run in the shape `moments eval run` writes (evals/runner.py)."""
    case = {
        "id": "complaint-hub-offline",
        "moment": "complaint",
        "passed": passed,
        "failures": [] if passed else ["warmth 0.30 < 0.50"],
        "scores": {"warmth": warmth, "empathy": 0.7, "hostility": 0.0},
    }
    return {
        "format": 1,
        "run_id": run_id,
        "suite": "default",
        "model": "scripted",
        "started_at": started,
        "cases": [
            case,
            {
                **case,
                "id": "welcome-first-hub",
                "passed": True,
                "failures": [],
                "scores": {"warmth": 0.9, "empathy": 0.7, "hostility": 0.0},
            },
        ],
        "summary": {"warmth": warmth, "empathy": 0.7, "hostility": 0.0},
        "passed": 2 if passed else 1,
        "failed": 0 if passed else 1,
    }


def test_evals_uses_the_eval_comparison_for_runs_the_runner_wrote(
    stack: Stack, tmp_path: Path
) -> None:
    runs = stack.settings.resolved_eval_runs_dir
    runs.mkdir()
    for run in (
        native_run("r1", "2026-11-24T10:00:00+00:00", 0.8, True),
        native_run("r2", "2026-11-25T10:00:00+00:00", 0.3, False),
    ):
        (runs / f"{run['run_id']}.json").write_text(json.dumps(run), encoding="utf-8")
    at = page(app(stack.keys["reviewer"]), "pages/evals.py")
    assert any("paired cases" in c.value for c in at.caption)
    assert "1 of 2 cases passed" in texts(at)
    assert {m.label for m in at.metric} >= {"warmth", "empathy", "hostility"}
    assert at.selectbox(key="eval_base").value == "r1"
    assert at.selectbox(key="eval_cand").value == "r2"
    assert "1 case(s) regressed" in messages(at, "warning")
    why = at.table[-1].value
    assert list(why["case"]) == ["complaint-hub-offline"]
    assert "passed → failed" in why["why"].iloc[0]


# Drafting a new post, removing a source ---------------------------------------------------------


def test_a_new_post_is_queued_and_its_draft_can_be_opened(stack: Stack) -> None:
    from api.testing import worker_pass
    from ui.testing import rich_draft

    at = app(stack.keys["reviewer"])
    at.run()
    post_box = next(t for t in at.text_area if t.label == "The member's post")
    post_box.input("Hi! Just joined and my Hub arrived today. Where do I start?")
    next(t for t in at.text_input if t.label == "Member name").input("Priya Shah")
    next(b for b in at.button if b.label == "Queue a draft").click().run()
    assert not at.exception
    job_id = at.session_state["new_post_job"]
    assert "You can keep reviewing" in texts(at)  # the progress note while it drafts
    worker_pass(stack.settings, stack.store, stack.app.state.publisher, drafter=rich_draft)
    at.run()
    draft_id = stack.store.get_job(int(job_id)).result_draft_id
    assert f"Draft #{draft_id} is ready." in messages(at, "success")
    at.button(key="open_new_draft").click().run()
    assert not at.exception
    assert f"Draft #{draft_id}" in texts(at)


def test_admin_removes_a_source(stack: Stack, tmp_path: Path) -> None:
    doomed = tmp_path / "ui-doomed.md"
    doomed.write_text("# Old policy\n\nThis guideline is out of date.\n", encoding="utf-8")
    stack.app.state.index.index_paths([doomed])
    source = next(
        s.source for s in stack.app.state.index.list_sources() if "ui-doomed.md" in s.source
    )
    at = page(app(stack.keys["admin"], "admin"), "pages/knowledge.py")
    remove = next(s for s in at.selectbox if s.label == "Remove a source from the index")
    remove.set_value(source).run()
    next(b for b in at.button if b.label == "Remove").click().run()
    assert not at.exception
    assert f"of {source}" in messages(at, "success")
    assert all(s.source != source for s in stack.app.state.index.list_sources())


def test_member_card_lists_earlier_interactions(stack: Stack) -> None:
    from copilot import review as review_rules
    from copilot.types import Member
    from ui.testing import sample_post

    member = Member(handle="walter-b", name="Walter Brandt", post_count=3)
    first = seed_draft(
        stack, sample_post(title="Zigbee bridge question", member=member, forum_post_id="w-1")
    )
    second = seed_draft(
        stack, sample_post(title="Hub reboots at night", member=member, forum_post_id="w-2")
    )
    review_rules.approve(stack.store, first, "Maya Okafor")
    at = review(stack, second)
    body = texts(at)
    assert "Earlier interactions · 1 post, 1 reply approved" in body
    assert "Zigbee bridge question" in body
    assert "Hub reboots at night" not in body.split("Earlier interactions")[1].split("\n")[1]
    assert "Replies the team approved for them (1)" in body


def test_a_member_with_no_earlier_posts_says_so(stack: Stack) -> None:
    from copilot.types import Member
    from ui.testing import sample_post

    member = Member(handle="first-timer", name="Ana")
    draft_id = seed_draft(stack, sample_post(member=member, forum_post_id="ft-1"))
    at = review(stack, draft_id)
    assert "No earlier posts from this member." in texts(at)


def test_a_citation_opens_the_guideline_it_came_from(stack: Stack, tmp_path: Path) -> None:
    from copilot.types import Citation, SnippetKind
    from ui.testing import rich_draft

    guide = tmp_path / "ui-escalation.md"
    guide.write_text(
        "# Escalation\n\n## First reply\n\nThank them and restate the problem.\n\n"
        "## When to escalate\n\nHand outages to the on-call engineer.\n",
        encoding="utf-8",
    )
    index = stack.app.state.index
    index.index_paths([guide])
    hit = index.search("on-call engineer outages", k=1)[0]

    def drafter(post: Any, options: Any) -> Any:
        draft = rich_draft(post, options)
        cited = Citation(
            id=hit.id,
            source=hit.source,
            title=hit.title,
            heading=hit.heading,
            kind=SnippetKind.GUIDELINE,
            score=0.9,
            text=hit.text,
        )
        return draft.model_copy(update={"citations": [cited, *draft.citations]})

    draft_id = seed_draft(stack, drafter=drafter)
    at = review(stack, draft_id)
    at.toggle(key=f"cite_{draft_id}_1").set_value(True).run()
    assert not at.exception
    body = texts(at)
    assert "Thank them and restate the problem." in body  # the rest of the guideline
    assert any(
        ":orange-badge[cited]" in m.value and "on-call engineer" in m.value for m in at.markdown
    )
    assert "Escalation › First reply" in body
    at.toggle(key=f"cite_{draft_id}_2").set_value(True).run()  # not in this index
    assert not at.exception
    assert "No chunks from source" in messages(at, "error")


def test_the_crisis_sidebar_lists_incidents_and_opens_one(stack: Stack) -> None:
    import httpx

    facts = {
        "title": "Firmware 3.3 rollout paused",
        "what_happened": "The 3.3 rollout was paused after Hubs dropped offline.",
        "started_at": "09:00 UTC on 4 March",
        "affected": "Hubs updated to 3.3",
        "next_update_at": "12:00 UTC",
    }
    created = httpx.post(
        f"{stack.url}/v1/incidents",
        json={"incident_id": "inc-ui-list", "facts": facts, "channels": ["forum", "banner"]},
        headers={"Authorization": f"Bearer {stack.keys['reviewer']}"},
        timeout=60,
    )
    assert created.status_code == 201, created.text
    at = page(app(stack.keys["reviewer"]), "pages/crisis.py")
    chooser = at.sidebar.selectbox(key="open_incident_id")
    assert "Firmware 3.3 rollout paused · initial · 2 awaiting approval" in chooser.options
    chooser.set_value("inc-ui-list").run()
    at.sidebar.button(key="open_incident").click().run()
    assert not at.exception
    assert at.session_state["incident"]["id"] == "inc-ui-list"
    assert "Firmware 3.3 rollout paused" in [s.value for s in at.subheader]


def test_a_failed_publication_can_be_retried_from_the_page(stack: Stack) -> None:
    draft_id = seed_draft(stack)
    at = review(stack, draft_id)
    stack.forum.fail_next = 50  # the forum answers 502 to every attempt
    try:
        at.button(key=f"approve_{draft_id}").click().run()
    finally:
        stack.forum.fail_next = 0
    assert not at.exception
    assert "Approved, but publishing failed" in messages(at, "warning")
    assert draft_status(stack, draft_id) == "approved"
    assert "Publishing failed" in messages(at, "error")
    at.button(key=f"publish_{draft_id}").click().run()
    assert not at.exception
    assert draft_status(stack, draft_id) == "published"


def test_a_revoked_key_sends_the_manager_back_to_sign_in(stack: Stack) -> None:
    record, key = stack.store.create_api_key("reviewer", "soon-revoked")
    at = app(key)
    at.run()
    assert "Review queue" in texts(at)
    stack.store.revoke_api_key(record.id)
    stack.app.state.key_cache.forget(record.id)
    at.run()
    assert not at.exception
    assert "Sign in again" in messages(at, "error")
    assert "api_key" not in at.session_state
    at.run()
    at.switch_page("pages/signin.py").run()  # the browser lands there; AppTest needs telling
    assert "Sign in" in texts(at)


def test_drafting_here_streams_the_reply_and_scores_it(stack: Stack) -> None:
    at = app(stack.keys["reviewer"])
    at.run()
    next(t for t in at.text_area if t.label == "The member's post").input(
        "My Hub lost all its scenes after the update and I'm pretty upset."
    )
    next(b for b in at.button if b.label.startswith("Draft it here now")).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not messages(at, "error")
    assert "Not saved" in texts(at)
    assert "Overall tone" in [m.label for m in at.metric]
    assert stack.model.history, "the API's model wrote the streamed draft"
