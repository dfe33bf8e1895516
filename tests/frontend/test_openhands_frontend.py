"""The real OpenHands 0.53.0 frontend (its built files, ../shared/openhands-frontend-0.53.0/) against the mock as
`make serve-openhands` starts it, in headless Chromium at 1,280 x 800: every page renders without a failed call, the
conversation screen gets a live event stream and a scripted reply, saved settings survive a reload and a stopped
conversation starts. The first real client of this project, as a test.

Every wait has a deadline that only a hang reaches; nothing is timed. MOCKSERVER_SCREENSHOTS=DIR keeps a screenshot
of each page there (to look at them).
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser import Page, chromium
from tests.support import OPENHANDS, ROOT, free_port, listening, require, serve, stop, wait_until

pytestmark = pytest.mark.e2e

FRONTEND = ROOT.parent / "shared" / "openhands-frontend-0.53.0"
PROFILE = OPENHANDS  # the arguments of `make serve-openhands`
WAIT = 60  # seconds: a deadline for a hang, never a speed limit


@dataclass
class App:
    url: str  # the frontend (static files; /api and /socket.io forwarded to the mock)
    mock: str  # the mock itself

    def journal(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.mock}/__mock/requests?limit=1000", timeout=10) as answer:
            body = json.load(answer)
        return body["requests"] if isinstance(body, dict) else body

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.mock}{path}", timeout=10) as answer:
            return json.load(answer)

    def clear(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.mock}/__mock/requests", method="DELETE"), timeout=10)


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    if not (FRONTEND / "build" / "index.html").is_file():
        if os.environ.get("CI"):
            raise AssertionError(f"the built OpenHands frontend is missing: {FRONTEND}")
        pytest.skip(f"the built OpenHands frontend is not here: {FRONTEND}")
    node = require("node")
    with serve(*PROFILE) as mock:
        port = free_port()
        process = subprocess.Popen(
            [node, str(FRONTEND / "serve.cjs"), str(FRONTEND / "build"), str(port), mock.url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            wait_until(lambda: listening(port), WAIT, "the frontend's static server")
            yield App(f"http://127.0.0.1:{port}", mock.url)
        finally:
            stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def open_page(browser: Any, url: str) -> Page:
    page = browser.open("about:blank")
    page.call("Emulation.setDeviceMetricsOverride", width=1280, height=800, deviceScaleFactor=1, mobile=False)
    page.call("Page.navigate", url=url)
    page.wait(f"location.href.startsWith({json.dumps(url)}) && document.readyState === 'complete'", WAIT)
    return page


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("MOCKSERVER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(str(Path(folder) / f"{name}.png"))


def by_id(name: str) -> str:
    return f"document.querySelector('[data-testid=\"{name}\"]')"


def failed_calls(app: App) -> list[str]:
    """Requests of the app (not the test's own) the mock answered with an error."""
    return [
        f"{e['method']} {e['path']} -> {e['status']}"
        for e in app.journal()
        if e.get("status", 200) >= 400 and not e["path"].startswith("/__mock")
    ]


def type_into(page: Page, selector: str, text: str) -> None:
    page.evaluate(
        f"(() => {{ const el = document.querySelector({json.dumps(selector)}); el.focus(); el.select?.(); }})()"
    )
    page.call("Input.insertText", text=text)


PAGES = [
    ("/settings", "llm-settings-screen"),
    ("/settings/app", "app-settings-screen"),
    ("/settings/secrets", "secrets-settings-screen"),
    ("/settings/mcp", "mcp-settings-screen"),
    ("/settings/integrations", "git-settings-screen"),
]


def test_home_renders_without_a_failed_call(app: App, browser: Any) -> None:
    app.clear()
    page = open_page(browser, app.url + "/")
    page.wait(f"!!{by_id('home-screen')}", WAIT)
    assert page.evaluate(f"!{by_id('ai-config-modal')}"), "settings exist: no first-run modal"
    shot(page, "home")
    wanted = {"/api/options/config", "/api/settings"}
    wait_until(lambda: wanted <= {e["path"] for e in app.journal()}, WAIT, "the app's first calls")
    assert failed_calls(app) == []
    page.close()


def test_the_conversation_list_shows_the_fixtures(app: App, browser: Any) -> None:
    page = open_page(browser, app.url + "/")
    page.wait(f"!!{by_id('toggle-conversation-panel')}", WAIT)
    page.evaluate(f"{by_id('toggle-conversation-panel')}.click()")
    page.wait("document.querySelectorAll('[data-testid=\"conversation-card\"]').length >= 5", WAIT)
    titles = page.evaluate(
        "[...document.querySelectorAll('[data-testid=\"conversation-card-title\"]')].map(e => e.textContent)"
    )
    shot(page, "conversation-list")
    running = app.get("/api/conversations/running")
    assert running["title"] in " ".join(titles)  # the list and the detail are one world
    assert failed_calls(app) == []
    page.close()


@pytest.mark.parametrize(("path", "screen"), PAGES)
def test_settings_pages_render(app: App, browser: Any, path: str, screen: str) -> None:
    app.clear()
    page = open_page(browser, app.url + path)
    page.wait(f"!!{by_id(screen)}", WAIT)
    shot(page, "settings" + path.replace("/", "-").removeprefix("-settings"))
    if screen == "secrets-settings-screen":
        page.wait("document.querySelectorAll('[data-testid=\"secret-item\"]').length === 2", WAIT)
    assert failed_calls(app) == []
    page.close()


def test_saved_settings_survive_a_reload(app: App, browser: Any) -> None:
    page = open_page(browser, app.url + "/settings/app")
    page.wait(f"!!{by_id('git-user-name-input')}", WAIT)
    type_into(page, "[data-testid=git-user-name-input]", "mock-builder")
    page.wait(f"!{by_id('submit-button')}.disabled", WAIT)
    page.evaluate(f"{by_id('submit-button')}.click()")
    wait_until(lambda: app.get("/api/settings").get("git_user_name") == "mock-builder", WAIT, "the saved setting")
    page.close()
    page = open_page(browser, app.url + "/settings/app")
    page.wait(f"{by_id('git-user-name-input')}?.value === 'mock-builder'", WAIT)
    page.close()


def test_a_conversation_gets_its_event_stream_and_a_reply(app: App, browser: Any) -> None:
    app.clear()
    page = open_page(browser, app.url + "/conversations/running")
    page.wait(f"!!{by_id('chat-input')}", WAIT)
    page.wait("!document.body.innerText.includes('Waiting for runtime to start')", WAIT)
    page.wait("document.body.innerText.includes('The login test fails about one run in ten')", WAIT)  # replayed
    page.wait("document.body.innerText.includes('Agent is awaiting user input')", WAIT)  # the stream's agent state
    shot(page, "conversation-running")
    type_into(page, "[data-testid=chat-input] textarea", "Please also add a test for the logout")
    page.evaluate("document.querySelector('[data-testid=chat-input] button[aria-label=Send]').click()")
    page.wait("document.body.innerText.includes('Please also add a test for the logout')", WAIT)
    page.wait("document.body.innerText.includes('scripted reply from the mock server')", WAIT)  # the stream's answer
    shot(page, "conversation-reply")
    sockets = [e for e in app.journal() if e["path"].startswith("/socket.io")]
    assert sockets, "the socket.io connection is journaled"
    assert failed_calls(app) == []
    page.close()


def test_opening_a_stopped_conversation_starts_it(app: App, browser: Any) -> None:
    assert app.get("/api/conversations/stopped")["status"] == "STOPPED"
    page = open_page(browser, app.url + "/conversations/stopped")
    wait_until(lambda: app.get("/api/conversations/stopped")["status"] == "RUNNING", WAIT, "the conversation to run")
    page.wait("!document.body.innerText.includes('Waiting for runtime to start')", WAIT)
    shot(page, "conversation-started")
    starts = [e for e in app.journal() if e["method"] == "POST" and e["path"] == "/api/conversations/stopped/start"]
    assert starts and all(e["status"] == 200 for e in starts)
    page.close()
