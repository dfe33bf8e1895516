"""The admin routes: without HTTP (`Admin.handle(method, sub-path, query)` -> an `Answer`, or None for a path that
is not an admin route, which the mock answers), then through the app: `/__mock` itself, the dashboard page,
operations and fixtures views, the journal's fields (ISO-8601 time, matched fixture or override, reason, body
excerpt, preflights), and the rate limit."""

from __future__ import annotations

import json
import re

import pytest

from mockserver.serve.admin import Admin
from mockserver.serve.config import Config
from mockserver.serve.journal import Journal, Redactor
from mockserver.serve.pipeline.answer import Answer
from mockserver.serve.pipeline.core import build_mock
from tests.support import CONVERSATION, KEY_HEADER

MOCK = build_mock(Config(request_log=False))


@pytest.fixture
def admin() -> Admin:
    journal = Journal(3, Redactor(set(), None))
    for i in range(5):
        journal.record("GET", f"/x/{i}", [], [], 200, "generated", "GET /x/{id}", 0.1, [])
    return Admin(MOCK, journal)


def ask(admin: Admin, method: str, path: str, query: dict[str, list[str]] | None = None) -> Answer:
    answer = admin.handle(method, path, query or {})
    assert answer is not None
    return answer


def test_health_says_what_is_served(admin):
    answer = ask(admin, "GET", "/health")
    assert (answer.status, answer.source, answer.media) == (200, "admin", "application/json")
    health = json.loads(answer.body)
    assert health == {
        "status": "ok",
        "spec": "get-conversation.openapi.yaml",  # the file name, not the machine's path
        "operations": 1,
        "fixtures": sum(len(index.by_name) for index in MOCK.fixtures.values()),
        "warnings": [],
    }
    assert health["fixtures"] >= 40


def test_head_is_get(admin):
    assert ask(admin, "HEAD", "/health").status == 200


def test_the_journal_newest_last_and_limited(admin):
    data = json.loads(ask(admin, "GET", "/requests", {"limit": ["9", "2"]}).body)  # the last value counts
    assert (data["total"], data["capacity"]) == (5, 3)
    assert [entry["path"] for entry in data["requests"]] == ["/x/3", "/x/4"]
    assert len(json.loads(ask(admin, "GET", "/requests", {"limit": ["lots"]}).body)["requests"]) == 3
    assert json.loads(ask(admin, "GET", "/requests", {"limit": ["0"]}).body)["requests"] == []


def test_delete_clears_the_journal_but_not_the_count(admin):
    cleared = ask(admin, "DELETE", "/requests")
    assert (cleared.status, cleared.body, cleared.media) == (204, b"", None)
    data = json.loads(ask(admin, "GET", "/requests").body)
    assert (data["requests"], data["total"]) == ([], 5)


@pytest.mark.parametrize(("method", "path", "allow"), [("POST", "/health", "GET"), ("PUT", "/requests", "GET, DELETE"),
                                                       ("DELETE", "/health", "GET")])  # fmt: skip
def test_other_methods_are_405_with_allow(admin, method, path, allow):
    answer = ask(admin, method, path)
    assert answer.status == 405
    assert answer.headers == (("Allow", allow),)
    assert json.loads(answer.body)["allowed"] == allow.split(", ")


@pytest.mark.parametrize("path", ["/nothing", "/health/", "/requests/1", "/HEALTH"])
def test_anything_else_is_not_an_admin_route(admin, path):
    assert admin.handle("GET", path, {}) is None


@pytest.mark.parametrize("path", ["", "/"])
def test_the_prefix_itself_is_an_index(admin, path):
    index = json.loads(ask(admin, "GET", path).body)
    assert index["mockserver"] == "admin" and "POST /__mock/reset" in index["endpoints"]


# --- through the app -----------------------------------------------------------------------------------------------

KEY = {KEY_HEADER: "conformance-secret-key"}
OP = "GET /api/conversations/{conversation_id}"


def test_the_admin_prefix_itself_answers_a_json_index_or_the_dashboard(client):
    index = client.get("/__mock")
    assert index.status_code == 200 and index.headers["content-type"] == "application/json"
    assert "GET /__mock/operations" in index.json()["endpoints"]
    for path in ("/__mock", "/__mock/"):
        page = client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert 'const PREFIX = "/__mock";' in page.text
        assert not re.search(r"<(script|link)[^>]+(src|href)=\"?https?:", page.text)  # nothing from a CDN: offline


def test_the_dashboard_follows_the_admin_prefix(client_factory):
    client = client_factory(admin_prefix="/_m")
    assert 'const PREFIX = "/_m";' in client.get("/_m/", headers={"Accept": "text/html"}).text
    assert client.get("/_mockery").status_code == 404  # a longer path is the contract's, not an admin route


def test_operations_list_fixtures_and_sequences(client):
    (op,) = client.get("/__mock/operations").json()["operations"]
    assert op["operation"] == OP and op["path"] == "/api/conversations/{conversation_id}"
    names = {f["name"]: f for f in op["fixtures"]}
    assert "running" in names and names["running"]["steps"] is None
    assert names["starting-then-running"]["steps"] == [200, 200, 200]
    detail = client.get("/__mock/fixtures", params={"operation": OP, "name": "starting-then-running"}).json()
    assert [r["body"]["status"] for r in detail["responses"]] == ["STARTING", "STARTING", "RUNNING"]
    assert client.get("/__mock/fixtures", params={"name": "nope"}).status_code == 404


def test_journal_entries_say_when_what_matched_why_and_what_was_sent(client):
    client.get(CONVERSATION + "running", headers=KEY)
    client.get(CONVERSATION + "running")
    entries = client.get("/__mock/requests").json()["requests"]
    ok, refused = entries
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ok["time"])
    assert ok["fixture"] == "running" and ok["override"] is None and ok["source"] == "fixture"
    assert ok["response"].startswith('{"conversation_id":"running"') and ok["media"] == "application/json"
    assert '"session_api_key":null' in ok["response"]
    assert refused["status"] == 401 and refused["note"] == "credentials missing or wrong (fixture unauthorized)"
    assert refused["response"] == '{"detail":"Unauthorized"}'
    assert isinstance(ok["worker"], int)


def test_body_excerpts_are_clipped_and_redacted(client_factory, tmp_path):
    (tmp_path / "big.yaml").write_text(
        "operation: GET /api/conversations/{conversation_id}\nmatch: {path: {conversation_id: big}}\n"
        f"response: {{status: 200, body: {{conversation_id: big, title: '{'x' * 2000}',"
        " session_api_key: 'abcd-session-secret', url: 'conformance-secret-key'}}\n"
    )
    client = client_factory(fixtures=str(tmp_path), api_key="conformance-secret-key")
    client.get(CONVERSATION + "big", headers=KEY)
    (entry,) = client.get("/__mock/requests").json()["requests"]
    assert "abcd-session-secret" not in entry["response"] and "conformance-secret-key" not in str(entry)
    assert "+1" in entry["response"] and len(entry["response"]) < 600  # clipped, and says by how much


def test_preflights_are_journaled(client):
    client.options(CONVERSATION + "x", headers={"Origin": "http://app.local", "Access-Control-Request-Method": "GET"})
    (entry,) = client.get("/__mock/requests").json()["requests"]
    assert entry["method"] == "OPTIONS" and entry["source"] == "cors" and entry["status"] == 200
    assert entry["note"] == "CORS preflight for GET from http://app.local: allowed"


def test_admin_answers_carry_cors_for_a_dashboard_on_another_origin(client):
    answer = client.post(
        "/__mock/overrides", json={"operation": OP, "prefer": "code=422"}, headers={"Origin": "http://127.0.0.1:9"}
    )
    assert answer.headers["access-control-allow-origin"] == "http://127.0.0.1:9"


def test_rate_limit_answers_429_with_retry_after_and_cors(client_factory, monkeypatch):
    import mockserver.serve.app as app_module

    now = [1000.25]
    monkeypatch.setattr(app_module.time, "time", lambda: now[0])
    client = client_factory(rate_limit=2)
    origin = {"Origin": "http://localhost:3000", **KEY}
    statuses = [client.get(CONVERSATION + "running", headers=origin) for _ in range(3)]
    assert [s.status_code for s in statuses] == [200, 200, 429]
    limited = statuses[2]
    assert limited.headers["retry-after"] == "1" and limited.headers["access-control-allow-origin"]
    assert "retry-after" in limited.headers["access-control-expose-headers"].lower()
    assert limited.json()["title"] == "Too Many Requests"
    assert client.get("/__mock/health").status_code == 200  # the admin endpoints are never limited
    now[0] = 1001.0
    assert client.get(CONVERSATION + "running", headers=KEY).status_code == 200  # the next second


def test_other_sites_cannot_steer_the_mock_from_a_browser(client_factory):
    # A page the developer happens to visit must not reset the mock or add overrides through it
    client = client_factory(cors_origins=["http://app.local"])
    override = {"operation": "GET /api/conversations/{conversation_id}", "prefer": "code=422"}
    evil = {"Origin": "http://evil.example"}
    refused = client.post("/__mock/overrides", json=override, headers=evil)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/admin-cross-origin")
    assert client.get("/__mock/overrides").json() == {"overrides": []}
    assert client.post("/__mock/reset", headers=evil).status_code == 403
    preflight = {**evil, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    answer = client.options("/__mock/overrides", headers=preflight)
    assert answer.status_code == 403 and "access-control-allow-origin" not in answer.headers
    # the contract's own paths stay open to any origin the CORS settings allow
    assert client.options(CONVERSATION + "x", headers={**preflight, "Origin": "http://app.local"}).status_code == 200
    # the mock's own pages (the dashboard) and listed origins may
    assert client.post("/__mock/overrides", json=override, headers={"Origin": "http://mock"}).status_code == 201
    assert client.post("/__mock/reset", headers={"Origin": "http://app.local"}).status_code in (200, 204)
    assert client.post("/__mock/reset").status_code in (200, 204)  # curl sends no Origin


def test_the_journal_answers_queries_with_a_count(client):
    key = {"X-Session-API-Key": "k"}
    client.get("/api/conversations/running", headers=key)
    client.get("/api/conversations/running")  # 401
    client.get("/api/conversations/stopped", headers=key)
    client.get("/nowhere")
    every = client.get("/__mock/requests").json()
    assert every["count"] == len(every["requests"]) == 4
    by_path = client.get("/__mock/requests", params={"path": "/api/conversations/running"}).json()
    assert by_path["count"] == 2 and {e["status"] for e in by_path["requests"]} == {200, 401}
    assert client.get("/__mock/requests", params={"status": "401"}).json()["count"] == 1
    assert client.get("/__mock/requests", params={"status": "4xx"}).json()["count"] == 2
    assert client.get("/__mock/requests", params={"operation": OP, "status": "2xx"}).json()["count"] == 2
    fixtures = client.get("/__mock/requests", params={"source": "fixture", "method": "get"}).json()
    assert fixtures["count"] == 3  # the 401 too: its fixture answered
    assert client.get("/__mock/requests", params={"path": "/api/*", "limit": "1"}).json()["count"] == 3
    assert len(client.get("/__mock/requests", params={"path": "/api/*", "limit": "1"}).json()["requests"]) == 1
    assert client.get("/__mock/requests", params={"method": "POST"}).json() == {
        **client.get("/__mock/requests", params={"method": "POST"}).json(),
        "count": 0,
        "requests": [],
    }
    bad = client.get("/__mock/requests", params={"status": "teapot"})
    assert bad.status_code == 400 and bad.json()["field"] == "status"


def test_delete_with_filters_removes_only_the_matching_entries(client):
    key = {"X-Session-API-Key": "k"}
    client.get("/api/conversations/running", headers=key)
    client.get("/api/conversations/running")
    assert client.delete("/__mock/requests", params={"status": "401"}).status_code == 204
    left = client.get("/__mock/requests").json()
    assert [e["status"] for e in left["requests"]] == [200] and left["total"] == 2


def test_browser_noise_is_not_journaled(client):
    assert client.get("/favicon.ico").status_code == 404
    client.get("/__mock/requests")  # the dashboard's polling: an admin request
    client.get("/__mock/", headers={"Accept": "text/html"})
    assert client.get("/__mock/requests").json()["count"] == 0


def test_the_journal_keeps_the_request_body_with_secrets_redacted(client_factory):
    from tests.support import CONVERSATIONS

    client = client_factory(spec=CONVERSATIONS, api_key="the-configured-key")
    sent = {"title": "From a test", "llm_api_key": "sk-very-secret", "note": "the-configured-key"}
    client.post("/api/conversations", json=sent, headers={"X-Session-API-Key": "the-configured-key"})
    entry = client.get("/__mock/requests?limit=1").json()["requests"][0]
    assert '"title":"From a test"' in entry["body"]
    assert "sk-very-secret" not in entry["body"] and "the-configured-key" not in entry["body"]
    assert entry["body"].count("[redacted]") == 2
