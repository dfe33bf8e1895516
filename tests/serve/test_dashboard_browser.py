"""The dashboard in a real headless Chromium, and a frontend on another loopback origin calling the mock with
`fetch` (real CORS, preflights included): an override set by clicking in the dashboard changes the app's next
answer, removing it restores it, a sequence advances per poll, and in `--stateful` mode a POST then GET returns
what was posted (minus writeOnly) and a DELETE then GET gives the contract's not-found answer."""

from __future__ import annotations

import json
import os

import pytest

from tests.browser import chromium
from tests.support import CONVERSATIONS, CONVERSATIONS_FIXTURES, KEY_HEADER, OPENHANDS, Served, serve

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
        dashboard.evaluate(f"document.querySelector('#operations .op[data-operation=\"{OP}\"]').click()")
        dashboard.evaluate("document.querySelector('#answers button.answer[data-code=\"500\"]').click()")
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


# --- dashboard v2: layout at real size, the request detail, "answer like this", the editor -----------------------

OVERFLOW = """(() => {
  const bad = [];
  const root = document.documentElement;
  if (root.scrollWidth > innerWidth) bad.push(`document ${root.scrollWidth} > ${innerWidth}`);
  for (const node of document.querySelectorAll("body *")) {
    if (["INPUT", "TEXTAREA", "SELECT", "OPTION", "SCRIPT"].includes(node.tagName)) continue;
    const box = node.getBoundingClientRect();
    if (node.clientWidth > 0 && node.scrollWidth > node.clientWidth + 1)
      bad.push(`${node.tagName}#${node.id}.${node.className} hides ${node.scrollWidth - node.clientWidth}px sideways`);
    else if (box.width > 0 && box.right > innerWidth + 1)
      bad.push(`${node.tagName}#${node.id}.${node.className} ends at ${box.right}`);
  }
  return bad.slice(0, 20);
})()"""
LONG = "/api/conversations/" + "a-very-long-conversation-identifier-" * 6


def _sized(page) -> None:
    page.call("Emulation.setDeviceMetricsOverride", width=1280, height=800, deviceScaleFactor=1, mobile=False)
    page.wait("innerWidth === 1280")


def _shot(page, name: str) -> None:
    folder = os.environ.get("MOCKSERVER_SCREENSHOTS")  # to look at the pages: MOCKSERVER_SCREENSHOTS=/tmp/dash
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(os.path.join(folder, name))


@pytest.mark.parametrize("args, operations", [(OPENHANDS, 47), ((), 1)], ids=["openhands-profile", "built-in"])
def test_the_dashboard_fits_1280_by_800(args, operations):
    import httpx

    with serve(*args, "--no-request-log") as mock, chromium() as browser:
        headers = {KEY_HEADER: "a-browser-key-value", "X-Very-Long-Header": "v" * 400}
        for path in (LONG, "/api/conversations/running?" + "q=" + "x" * 300, "/nowhere/" + "z" * 200):
            httpx.get(mock.url + path, headers=headers)
        page = browser.open(f"{mock.url}/__mock/")
        _sized(page)
        page.wait("!!document.body && document.body.dataset.ready === '1'")
        assert page.evaluate("document.querySelectorAll('#operations .op').length") == operations
        fixtures = page.evaluate("document.querySelectorAll('#operations a.fixture').length")
        listed = httpx.get(mock.url + "/__mock/operations").json()["operations"]
        assert fixtures == sum(len(op["fixtures"]) for op in listed) >= 40  # every fixture, each under its operation
        assert page.evaluate("[...document.querySelectorAll('#operations details')].every((d) => !d.open)")  # collapsed
        page.wait("document.querySelectorAll('#journal tr').length === 3")
        assert page.evaluate(OVERFLOW) == []
        _shot(page, f"layout-{operations}.png")
        # the answers and the editor are on screen without scrolling sideways
        assert page.evaluate("document.querySelector('#ed-add').getBoundingClientRect().right <= innerWidth")
        page.evaluate("document.querySelector('#journal tr').click()")  # the newest: the long 404 path
        page.wait("!document.getElementById('detail').hidden")
        page.evaluate("document.querySelectorAll('#operations details').forEach((d) => { d.open = true; })")
        page.evaluate("document.getElementById('detail').scrollIntoView()")
        assert page.evaluate(OVERFLOW) == []
        _shot(page, f"detail-{operations}.png")
        if operations == 47:  # the search narrows the list
            page.evaluate(
                "const s = document.getElementById('search'); s.value = 'git changes';"
                "s.dispatchEvent(new Event('input'))"
            )
            shown = page.evaluate(
                "[...document.querySelectorAll('#operations .op')].filter((o) => !o.hidden)"
                ".map((o) => o.dataset.operation)"
            )
            assert shown and all("git" in op and "changes" in op for op in shown)


def test_request_detail_answer_like_this_and_the_editor():
    import httpx

    with serve(CONVERSATIONS, "--fixtures", CONVERSATIONS_FIXTURES, "--no-request-log") as mock, \
            chromium() as browser:  # fmt: skip
        key = {KEY_HEADER: "secret-browser-key"}
        first = httpx.get(f"{mock.url}/api/conversations/running?verbose=1", headers=key)
        page = browser.open(f"{mock.url}/__mock/")
        _sized(page)
        page.wait("!!document.body && document.body.dataset.ready === '1'")
        page.wait("document.querySelectorAll('#journal tr').length === 1")

        # the detail pane: method, path, headers (the key redacted), the answer, source, what matched, curl
        page.evaluate("document.querySelector('#journal tr').click()")
        page.wait("!document.getElementById('detail').hidden")
        detail = page.evaluate("document.getElementById('detail').innerText")
        assert "GET /api/conversations/running?verbose=1" in detail and "fixture running" in detail
        assert "[redacted]" in detail and "secret-browser-key" not in detail
        assert '"status": "RUNNING"' in detail
        curl = page.evaluate("document.getElementById('curl').textContent")
        assert curl.startswith(f"curl '{mock.url}/api/conversations/running?verbose=1'")
        assert f"-H '{KEY_HEADER.lower()}: [redacted]'" in curl
        _shot(page, "detail-pane.png")

        # "answer like this from now on": the same answer for this id, whatever the fixtures say next
        page.evaluate("document.getElementById('answer-like-this').click()")
        page.wait("document.querySelectorAll('#overrides tr').length === 1")
        override = httpx.get(f"{mock.url}/__mock/overrides").json()["overrides"][0]
        assert override["params"] == {"conversation_id": "running"} and override["response"]["status"] == 200
        again = httpx.get(f"{mock.url}/api/conversations/running", headers=key)
        assert again.json() == first.json() and again.headers["x-mock-source"] == "override"
        assert httpx.get(f"{mock.url}/api/conversations/other", headers=key).headers["x-mock-source"] != "override"

        # the editor: an answer the contract forbids is refused as you type, with its pointer
        page.evaluate(f"document.querySelector('#operations .op[data-operation=\"{OP}\"]').click()")
        body = json.dumps({**first.json(), "status": "PAUSED"})
        page.evaluate(f"""(() => {{
            document.getElementById('ed-respond').checked = true;
            document.getElementById('ed-status').value = '200';
            const body = document.getElementById('ed-body');
            body.value = {json.dumps(body)};
            body.dispatchEvent(new Event('input'));
        }})()""")
        page.wait("document.getElementById('verdict').textContent.includes('/body/status')")
        verdict = page.evaluate("document.getElementById('verdict').textContent")
        assert verdict.startswith('/body/status: "PAUSED" is not one of')
        assert page.evaluate("document.getElementById('ed-add').disabled")
        _shot(page, "editor-refusal.png")
        page.evaluate(f"""(() => {{
            const body = document.getElementById('ed-body');
            body.value = {json.dumps(json.dumps({**first.json(), "status": "STOPPED"}))};
            body.dispatchEvent(new Event('input'));
        }})()""")
        page.wait("document.getElementById('verdict').className === 'good'")
        page.evaluate("document.getElementById('ed-add').click()")
        page.wait("document.querySelectorAll('#overrides tr').length === 2")
        assert httpx.get(f"{mock.url}/api/conversations/other", headers=key).json()["status"] == "STOPPED"
