"""The HTTP adapter: CORS, latency and error injection, X-Mock-Source, the journal, the log line, admin routes."""

from __future__ import annotations

import pytest

import mockserver.serve.app as app_module
from mockserver.serve.config import Config, ConfigError
from tests.support import CONVERSATION, KEY_HEADER

KEY = {KEY_HEADER: "k"}
PREFLIGHT = {
    "Origin": "http://localhost:3000",
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "x-session-api-key",
}


def test_cors_on_by_default_with_preflight_and_contract_headers(client):
    preflight = client.options(CONVERSATION + "running", headers=PREFLIGHT)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "x-session-api-key" in preflight.headers["access-control-allow-headers"].lower()
    simple = client.get(CONVERSATION + "running", headers={**KEY, "Origin": "http://localhost:3000"})
    assert simple.headers["access-control-allow-origin"] in ("*", "http://localhost:3000")
    assert "x-mock-source" in simple.headers["access-control-expose-headers"].lower()


def test_cors_origin_restricts(client_factory):
    client = client_factory(cors_origins=["http://app.local"])
    denied = client.options(CONVERSATION + "x", headers=PREFLIGHT)
    assert denied.status_code == 400
    allowed = client.options(CONVERSATION + "x", headers={**PREFLIGHT, "Origin": "http://app.local"})
    assert allowed.headers["access-control-allow-origin"] == "http://app.local"


def test_no_cors_sends_no_cors_headers(client_factory):
    client = client_factory(cors=False)
    response = client.get(CONVERSATION + "running", headers={**KEY, "Origin": "http://localhost:3000"})
    assert "access-control-allow-origin" not in response.headers


def test_every_answer_says_its_source(client):
    sources = {
        client.get(CONVERSATION + "running", headers=KEY).headers["x-mock-source"],
        client.get(CONVERSATION + "zz", headers=KEY).headers["x-mock-source"],
        client.get(CONVERSATION + "zz").headers["x-mock-source"],
        client.get("/nope").headers["x-mock-source"],
    }
    assert sources == {"fixture", "generated", "error"}


@pytest.fixture
def sleeps(monkeypatch):
    recorded: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(app_module, "_sleep", fake_sleep)
    return recorded


def test_latency_range_is_applied_to_every_mocked_answer(client_factory, sleeps):
    client = client_factory(latency=(20, 40))
    for _ in range(30):
        client.get(CONVERSATION + "zz", headers=KEY)
    assert len(sleeps) == 30
    assert all(0.020 <= s <= 0.040 for s in sleeps)
    assert len(set(sleeps)) > 1


def test_prefer_delay_overrides_and_fixture_delay_applies(client_factory, sleeps, tmp_path):
    (tmp_path / "slow.yaml").write_text(
        "operation: GET /api/conversations/{conversation_id}\nmatch: {path: {conversation_id: slow}}\n"
        "response: {status: 200, delay_ms: 250, body: null}\n"
    )
    client = client_factory(fixtures=str(tmp_path))
    client.get(CONVERSATION + "slow", headers=KEY)
    client.get(CONVERSATION + "x", headers={**KEY, "Prefer": "delay=75"})
    client.get(CONVERSATION + "x", headers={**KEY, "Prefer": "delay=999999999"})
    assert sleeps == [0.25, 0.075, 10.0]


def test_error_rate_injects_500_and_503(client_factory):
    always = client_factory(error_rate=1.0)
    statuses = {always.get(CONVERSATION + "x", headers=KEY).status_code for _ in range(40)}
    assert statuses == {500, 503}
    half = client_factory(error_rate=0.5)
    failed = sum(half.get(CONVERSATION + "x", headers=KEY).status_code >= 500 for _ in range(400))
    assert 120 < failed < 280
    assert half.get("/__mock/health").status_code == 200  # admin routes are never faulted


def test_journal_is_bounded_and_redacts_secrets(client_factory):
    client = client_factory(journal_size=5, api_key="top-secret-key")
    for i in range(12):
        client.get(CONVERSATION + f"id{i}", headers={KEY_HEADER: "top-secret-key", "Authorization": "Bearer abcdef"})
    client.get(CONVERSATION + "top-secret-key", headers={KEY_HEADER: "top-secret-key"})
    journal = client.get("/__mock/requests")
    assert journal.status_code == 200
    data = journal.json()
    assert data["total"] == 13
    assert len(data["requests"]) == 5
    assert "top-secret-key" not in journal.text
    assert "abcdef" not in journal.text
    last = data["requests"][-1]
    assert last["path"] == "/api/conversations/[redacted]"
    assert dict(last["headers"])["x-session-api-key"] == "[redacted]"
    assert client.delete("/__mock/requests").status_code == 204
    assert client.get("/__mock/requests").json()["requests"] == []


def test_one_log_line_per_request_without_the_key(client_factory, capsys):
    client = client_factory(request_log=True, api_key="log-secret-123")
    client.get(CONVERSATION + "running", headers={KEY_HEADER: "log-secret-123"})
    client.get(CONVERSATION + "log-secret-123", headers={KEY_HEADER: "log-secret-123"})
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("GET ")]
    assert len(lines) == 2
    method, path, status, source, ms = lines[0].split(" ")
    assert (method, path, status, source) == ("GET", "/api/conversations/running", "200", "fixture")
    assert ms.endswith("ms") and float(ms[:-2]) >= 0
    assert "log-secret-123" not in err


def test_health_and_configurable_admin_prefix(client_factory):
    default = client_factory()
    health = default.get("/__mock/health").json()
    assert health["status"] == "ok" and health["operations"] == 1 and health["fixtures"] >= 40
    moved = client_factory(admin_prefix="/_admin")
    assert moved.get("/_admin/health").status_code == 200
    assert moved.get("/__mock/health").status_code == 404


def test_no_admin_turns_the_endpoints_off(client_factory):
    client = client_factory(admin=False)
    assert client.get("/__mock/health").status_code == 404
    assert client.get("/__mock/requests").status_code == 404


def test_config_from_environment():
    config = Config.from_env(
        {"MOCKSERVER_SEED": "9", "MOCKSERVER_LATENCY": "5-10", "MOCKSERVER_CORS": "false", "MOCKSERVER_API_KEY": "x",
         "MOCKSERVER_CORS_ORIGINS": "http://a, http://b", "MOCKSERVER_ERROR_RATE": "0.25"}
    )  # fmt: skip
    assert (config.seed, config.latency, config.cors, config.api_key) == (9, (5, 10), False, "x")
    assert config.cors_origins == ["http://a", "http://b"] and config.error_rate == 0.25
    assert "api_key" not in repr(config)  # the key never reaches a log through a repr
    with pytest.raises(ConfigError):
        Config.from_env({"MOCKSERVER_SEED": "nine"})
    with pytest.raises(ConfigError):
        Config(error_rate=2)


def test_asgi_factory_reads_the_environment(monkeypatch):
    from starlette.testclient import TestClient

    monkeypatch.setenv("MOCKSERVER_API_KEY", "env-key")
    monkeypatch.setenv("MOCKSERVER_REQUEST_LOG", "false")
    with TestClient(app_module.create_app()) as client:
        assert client.get(CONVERSATION + "running", headers={KEY_HEADER: "nope"}).status_code == 401
        assert client.get(CONVERSATION + "running", headers={KEY_HEADER: "env-key"}).status_code == 200


def test_repeated_requests_are_answered_from_memory_but_still_journaled(client_factory, monkeypatch):
    client = client_factory()
    endpoint = client.app
    calls = []
    original = endpoint.mock.handle
    monkeypatch.setattr(
        endpoint.mock, "handle", lambda request, **kw: calls.append(request.raw_path) or original(request, **kw)
    )
    first = client.get(CONVERSATION + "polled", headers=KEY)
    second = client.get(CONVERSATION + "polled", headers=KEY)
    other = client.get(CONVERSATION + "polled", headers={**KEY, "Prefer": "branch=null"})
    assert first.content == second.content and other.json() is None
    assert len(calls) == 2  # the repeat did not go through the pipeline again
    assert client.get("/__mock/requests").json()["total"] == 3
    monkeypatch.setattr(app_module, "MEMO_ENTRIES", 2)
    for i in range(5):
        client.get(CONVERSATION + f"id-{i}", headers=KEY)
    assert len(endpoint.answers) == 2
    assert [key[1] for key in endpoint.answers] == [
        b"/api/conversations/id-3",
        b"/api/conversations/id-4",
    ]  # newest kept


def test_no_memory_of_answers_with_error_injection(client_factory):
    client = client_factory(error_rate=0.5)
    assert client.app.answers is None
    statuses = {client.get(CONVERSATION + "same", headers=KEY).status_code for _ in range(40)}
    assert 200 in statuses and statuses & {500, 503}
