"""End to end in headless Chromium: the real API (uvicorn, SQLite), a worker thread with a
deterministic drafter, a loopback Discourse that publications really reach over HTTP, and
`streamlit run ui/app.py` as a subprocess. A manager signs in, sees the draft arrive in the
queue without reloading, opens it, edits it, approves it, and sees the publication and audit.

Screenshots of every step go to test-artifacts/ui/; the review page's also to
docs/review-page.png (the README's screenshot) when it is missing or
MOMENTS_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from copilot.commands.stack import ui_command
from copilot.worker import run_worker
from ui.testing import Stack, free_port, rich_draft, start_stack

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "ui"
README_SHOT = REPO / "docs" / "review-page.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WAIT_MS = 45_000
expect.set_options(timeout=WAIT_MS)  # Streamlit renders asynchronously: wait, never sleep

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="needs Chromium at /usr/bin/chromium (apt-get install -y chromium; `make test` does it)",
)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    served = start_stack(tmp_path)
    yield served
    served.close()


@pytest.fixture
def worker(stack: Stack) -> Iterator[threading.Event]:
    """A worker loop in a thread, drafting with the deterministic drafter."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        kwargs={
            "settings": stack.settings,
            "store": stack.store,
            "drafter": rich_draft,
            "learner": lambda _record: None,
            "publisher": stack.app.state.publisher,
            "poll": 0.2,
            "stop": stop,
        },
        daemon=True,
    )
    thread.start()
    yield stop
    stop.set()
    thread.join(timeout=10)


@pytest.fixture
def ui_url(stack: Stack, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "MOMENTS_API_URL": stack.url, "MOMENTS_EVAL_RUNS_DIR": str(tmp_path)}
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        ui_command(port, stack.url), env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    else:
        proc.terminate()
        pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()}")
    if proc.poll() is not None:
        pytest.fail(f"streamlit exited: {(tmp_path / 'streamlit.log').read_text()}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def shot(page: Page, name: str, *, tall: bool = False) -> Path:
    """A screenshot of the app. Streamlit scrolls inside its main container, so a full page is
    taken by making the viewport as tall as the content."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if tall:
        height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
        page.set_viewport_size({"width": 1400, "height": min(4000, max(900, int(height) + 40))})
    page.screenshot(path=str(path))
    if tall:
        page.set_viewport_size({"width": 1400, "height": 900})
    return path


def submit_post(stack: Stack) -> int:
    response = httpx.post(
        f"{stack.url}/v1/posts",
        headers={"Authorization": f"Bearer {stack.keys['plugin']}"},
        json={
            "title": "Hub offline after the LumenOS 3.3 update",
            "text": "Since updating to 3.3 last night my Hub keeps dropping offline every hour. "
            "I rely on it for my porch lights. Email me at sam@example.com for logs.",
            "member": {
                "handle": "samr",
                "name": "Sam Rivera",
                "joined_at": "2024-05-01",
                "post_count": 42,
                "badges": ["Early adopter"],
            },
            "thread": [{"author": "jo", "text": "Same here on 3.3, rolled back to 3.2."}],
            "forum": "discourse",
            "forum_post_id": "1842",
            "topic_id": "311",
            "post_number": 1,
            "category": "Support",
        },
        timeout=10,
    )
    assert response.status_code == 202, response.text
    job_id: int = response.json()["job_id"]
    return job_id


def test_manager_reviews_edits_approves_and_sees_the_publication(
    stack: Stack, worker: threading.Event, ui_url: str, browser: Browser
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})

    # Sign in: a wrong key first, then the reviewer key.
    page.goto(ui_url)
    key_field = page.get_by_label("API key (reviewer or admin)", exact=True)
    expect(key_field).to_be_visible(timeout=WAIT_MS)
    key_field.fill("mk_wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That key is not valid")).to_be_visible(timeout=WAIT_MS)
    shot(page, "01-sign-in-bad-key")
    key_field.fill(stack.keys["reviewer"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("Nothing is waiting for review")).to_be_visible(timeout=WAIT_MS)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("reviewer-key")).to_be_visible()  # named by GET /v1/me
    shot(page, "02-queue-empty")

    # A post arrives; the worker drafts it; the queue shows it without a reload.
    job_id = submit_post(stack)
    expect(page.get_by_text("Hub offline after the LumenOS 3.3 update")).to_be_visible(
        timeout=WAIT_MS
    )
    draft_id = stack.store.get_job(job_id).result_draft_id
    assert draft_id is not None
    shot(page, "03-queue-with-draft")

    # Open it.
    page.locator(f".st-key-open_{draft_id} button").click()
    expect(page.get_by_role("heading", name=f"Draft #{draft_id}")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("Grounded on")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("playbook-negative-feedback.md").first).to_be_visible()
    expect(page.get_by_text("Overall tone")).to_be_visible()
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()  # the tone bars
    expect(page.get_by_test_id("stTable").last).to_be_visible()  # the audit trail
    expect(page.get_by_text("Publish to the forum right after approving")).to_be_visible()
    review_shot = shot(page, "04-review", tall=True)
    if not README_SHOT.exists() or os.environ.get("MOMENTS_UPDATE_SCREENSHOTS") == "1":
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)  # so a test run leaves git clean
        shutil.copyfile(review_shot, README_SHOT)

    # Edit the text; the tone card re-scores on leaving the box.
    edited = (
        "Hi Sam, I'm sorry the 3.3 update keeps knocking your Hub offline. Rolling back to 3.2 "
        "from Settings > Firmware brings your porch lights back while we find the cause."
    )
    box = page.get_by_label("Edit the reply before approving", exact=True)
    box.fill(edited)
    box.press("Tab")
    expect(page.get_by_text("Scored on the edited text")).to_be_visible(timeout=WAIT_MS)
    shot(page, "05-edited")

    # Approve with edits (publishing right after is on by default).
    approve = page.get_by_role("button", name="Approve with edits")
    expect(approve).to_be_enabled(timeout=WAIT_MS)
    approve.click()
    expect(page.get_by_text("Published to discourse as post")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("Audit trail").first).to_be_visible()
    shot(page, "06-published", tall=True)

    record = stack.store.get_draft(draft_id)
    assert record.status == "published"
    assert record.text == edited
    assert record.reviewer == "reviewer-key"
    posted = stack.forum.posted()
    assert len(posted) == 1 and posted[0].json["raw"].startswith(edited)
    external_id = record.publication.external_post_id if record.publication else None
    assert external_id
    expect(page.get_by_text(f"as post {external_id}").first).to_be_visible()
    audit = page.get_by_test_id("stTable").last
    expect(audit.get_by_text("approved", exact=True)).to_be_visible()
    expect(audit.get_by_text("published", exact=True)).to_be_visible()
    expect(audit.get_by_text("reviewer-key").first).to_be_visible()
