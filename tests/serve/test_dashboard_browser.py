"""The dashboard in a real headless Chromium, and a frontend on another loopback origin calling the mock with
`fetch` (real CORS, preflights included): an override set by clicking in the dashboard changes the app's next
answer, removing it restores it, a sequence advances per poll, and in `--stateful` mode a POST then GET returns
what was posted (minus writeOnly) and a DELETE then GET gives the contract's not-found answer."""

from __future__ import annotations

import json
import os

import pytest

from tests.browser import chromium
from tests.support import CONVERSATIONS, CONVERSATIONS_FIXTURES, KEY_HEADER, Served, serve

pytestmark = pytest.mark.e2e
OP = "GET /api/conversations/{conversation_id}"
APP_PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>frontend</title></head><body>
<p>A frontend on its own origin.</p>
<script>
const MOCK = new URLSearchParams(location.search).get("mock");
window.call = async (method, path, body) => {
  const init = { method, headers: { "X-Session-API-Key": "browser-key" } };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch(MOCK + path, init);
  const text = await response.text();
  const source = response.headers.get("X-Mock-Source");
  return { status: response.status, source, body: text ? JSON.parse(text) : null };
};
</script></body></html>"""


async def _frontend(scope, receive, send) -> None:
    """The other origin: serves one page and nothing else."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
    await send({"type": "http.response.body", "body": APP_PAGE})


def _call(page, method: str, path: str, body: object = None) -> dict:
    argument = "" if body is None else ", " + json.dumps(body)
    return page.evaluate(f"call({json.dumps(method)}, {json.dumps(path)}{argument})")


def test_dashboard_and_a_cross_origin_frontend_in_chromium(tmp_path):
    with (
        serve(CONVERSATIONS, "--fixtures", CONVERSATIONS_FIXTURES, "--stateful", "--no-request-log") as mock,
        Served(_frontend) as frontend,
        chromium() as browser,
    ):
        assert frontend.port != mock.port  # another origin
        dashboard = browser.open(f"{mock.url}/__mock/")
        dashboard.wait("!!document.body && document.body.dataset.ready === '1'")
        assert dashboard.evaluate("document.querySelectorAll('a.fixture').length") >= 3
        app = browser.open(f"{frontend.url}/?mock={mock.url}")
        assert app.evaluate("location.origin") == frontend.url

        before = _call(app, "GET", "/api/conversations/running")
        assert before["status"] == 200 and before["source"] == "state"

        # "answer 500" for the operation, clicked in the dashboard
        row = f'tr[data-operation="{OP}"]'
        dashboard.evaluate(f"document.querySelector('{row} button.answer[data-code=\"500\"]').click()")
        dashboard.wait("document.querySelectorAll('#overrides tr').length === 1")
        forced = _call(app, "GET", "/api/conversations/running")
        assert forced["status"] == 500 and forced["source"] == "override"
        dashboard.evaluate("document.querySelector('#overrides button.remove').click()")
        dashboard.wait("document.querySelectorAll('#overrides tr').length === 0")
        assert _call(app, "GET", "/api/conversations/running")["status"] == 200

        # a sequence advances per poll
        polled = [_call(app, "GET", "/api/conversations/warming-up")["body"]["status"] for _ in range(4)]
        assert polled == ["STARTING", "STARTING", "RUNNING", "RUNNING"]

        # --stateful: POST then GET returns what was posted, minus writeOnly; DELETE then GET: not found
        posted = {"title": "From the browser", "selected_branch": "feat/x", "llm_api_key": "sk-browser-secret"}
        created = _call(app, "POST", "/api/conversations", posted)
        assert created["status"] == 200 and created["body"]["status"] == "ok"
        new_id = created["body"]["conversation_id"]
        got = _call(app, "GET", f"/api/conversations/{new_id}")
        assert got["body"]["title"] == "From the browser" and got["body"]["selected_branch"] == "feat/x"
        assert "llm_api_key" not in got["body"]
        assert _call(app, "DELETE", f"/api/conversations/{new_id}")["body"] is True
        gone = _call(app, "GET", f"/api/conversations/{new_id}")
        assert gone["status"] == 200 and gone["body"] is None and gone["source"] == "state"

        # the live journal shows requests, statuses, sources, what matched and the body excerpt
        dashboard.wait("document.querySelector('#journal').textContent.includes('warming-up (3/3)')")
        journal = dashboard.evaluate("document.querySelector('#journal').textContent")
        assert "override 1" in journal and "OPTIONS" in journal and "created /api/conversations/" in journal
        assert '"title":"From the browser"' in journal and "sk-browser-secret" not in journal
        assert KEY_HEADER not in journal or "browser-key" not in journal
        if os.environ.get("MOCKSERVER_SCREENSHOT"):  # to look at the page: MOCKSERVER_SCREENSHOT=/tmp/dash.png
            dashboard.call("Emulation.setDeviceMetricsOverride", width=1400, height=1100, deviceScaleFactor=1,
                           mobile=False)  # fmt: skip
            dashboard.screenshot(os.environ["MOCKSERVER_SCREENSHOT"])

        # reset, from the dashboard: the collection is back to its seed, the journal empty
        dashboard.evaluate("document.querySelector('#reset').click()")
        dashboard.wait("document.querySelectorAll('#journal tr').length === 0")
        assert _call(app, "GET", "/api/conversations/warming-up")["body"]["status"] == "STARTING"
