"""CORS for the mock, without HTTP: the headers of an answer to a cross-origin request, and preflight answers."""

from __future__ import annotations

from mockserver.serve.cors import METHODS, Cors

ORIGIN = "http://localhost:3000"


def test_any_origin_is_echoed_with_credentials_and_the_exposed_headers():
    cors = Cors([], ["X-Total", "X-Mock-Source", "X-Total"])
    assert cors.simple(ORIGIN) == [
        (b"access-control-allow-origin", ORIGIN.encode()),  # never "*": credentialed requests work too
        (b"access-control-allow-credentials", b"true"),
        (b"vary", b"Origin"),
        (b"access-control-expose-headers", b"X-Mock-Source, X-Total"),
    ]


def test_nothing_to_expose_sends_no_expose_header():
    assert b"access-control-expose-headers" not in dict(Cors([], []).simple(ORIGIN))


def test_an_origin_list_leaves_other_origins_with_vary_only():
    cors = Cors(["http://app.local"], ["X-Mock-Source"])
    assert cors.allowed("http://app.local") and not cors.allowed(ORIGIN)
    assert cors.simple(ORIGIN) == [(b"vary", b"Origin")]
    assert dict(cors.simple("http://app.local"))[b"access-control-allow-origin"] == b"http://app.local"


def test_a_preflight_allows_every_method_and_mirrors_the_requested_headers():
    status, headers, body = Cors([], [], max_age=30).preflight(ORIGIN, "get", "x-session-api-key, content-type")
    assert (status, body) == (200, b"OK")
    assert dict(headers) == {
        b"vary": b"Origin",
        b"access-control-allow-methods": METHODS.encode(),
        b"access-control-max-age": b"30",
        b"access-control-allow-credentials": b"true",
        b"access-control-allow-headers": b"x-session-api-key, content-type",
        b"access-control-allow-origin": ORIGIN.encode(),
    }
    assert b"access-control-allow-headers" not in dict(Cors([], []).preflight(ORIGIN, "GET", None)[1])


def test_a_preflight_from_another_origin_or_for_an_unknown_method_is_400_saying_which():
    cors = Cors(["http://app.local"], [])
    status, headers, body = cors.preflight(ORIGIN, "GET", None)
    assert (status, body) == (400, b"Disallowed CORS origin")
    assert b"access-control-allow-origin" not in dict(headers)
    assert cors.preflight("http://app.local", "BREW", None)[::2] == (400, b"Disallowed CORS method")
    assert cors.preflight(ORIGIN, "BREW", None)[::2] == (400, b"Disallowed CORS origin, method")


def test_an_origin_outside_latin_1_does_not_break_the_answer():
    headers = dict(Cors([], []).simple("http://ünï.local"))
    assert headers[b"access-control-allow-origin"] == "http://ünï.local".encode("latin-1")
    assert dict(Cors([], []).simple("http://会話.local"))[b"access-control-allow-origin"] == b"http://??.local"


def test_a_recorded_policy_allows_its_hosts_on_any_port_and_refuses_the_rest_as_the_server_did():
    from mockserver.serve.cors import Policy

    policy = Policy(allowed=frozenset({"http://localhost:3001"}), refused=frozenset({"https://evil.example"}),
                    credentials_refused=True, methods="GET, POST", headers="x-session-api-key",
                    max_age=None)  # fmt: skip
    cors = Cors([], ["X-Mock-Source"], policy=policy)
    assert cors.allowed("http://localhost:3001") and cors.allowed("http://localhost:5173")  # another port
    assert not cors.allowed("https://evil.example") and not cors.allowed("https://other.example")
    assert dict(cors.simple("http://localhost:5173"))[b"access-control-allow-origin"] == b"http://localhost:5173"
    assert cors.simple("https://other.example") == [(b"access-control-allow-credentials", b"true")]  # as it sent
    status, headers, _ = cors.preflight("http://localhost:3001", "GET", "x-session-api-key")
    assert status == 200 and dict(headers)[b"access-control-allow-methods"] == b"GET, POST"
    assert b"access-control-max-age" not in dict(headers)
    assert cors.preflight("http://localhost:3001", "DELETE", None)[::2] == (400, b"Disallowed CORS method")
    assert cors.preflight("http://localhost:3001", "GET", "x-other")[::2] == (400, b"Disallowed CORS headers")


def test_the_learner_reads_a_policy_off_the_answers():
    from mockserver.serve.cors import MIRROR
    from mockserver.serve.forward.policy import CorsLearner

    learner = CorsLearner()
    allowed = [("access-control-allow-origin", ORIGIN), ("access-control-allow-credentials", "true")]
    assert not learner.observe("GET", {"origin": ORIGIN}, 200, allowed)
    assert not learner.observe("GET", {"origin": "https://evil.example"}, 200,
                               [("access-control-allow-credentials", "true")])  # fmt: skip
    assert not learner.observe("GET", {"origin": "https://crash.example"}, 500, [])  # a 5xx says nothing of CORS
    preflight = {"origin": ORIGIN, "access-control-request-method": "GET", "access-control-request-headers": "x-k"}
    assert learner.observe("OPTIONS", preflight, 200, [*allowed, ("access-control-allow-methods", METHODS),
                                                       ("access-control-allow-headers", "x-k"),
                                                       ("access-control-max-age", "600")])  # fmt: skip
    policy = learner.policy
    assert (policy.allowed, policy.refused) == ({ORIGIN}, {"https://evil.example"})
    assert policy.credentials and policy.credentials_refused and policy.headers == MIRROR and policy.max_age == "600"


def test_a_policy_file_reads_back_and_a_wrong_one_is_one_clear_error(tmp_path):
    import pytest
    import yaml

    from mockserver.contract.documents import DocumentError
    from mockserver.serve.cors import POLICY_FILE, Policy, load_policy

    policy = Policy(allowed=frozenset({ORIGIN}), max_age="600")
    (tmp_path / POLICY_FILE).write_text(yaml.safe_dump(policy.document()))
    assert load_policy([str(tmp_path / "none"), str(tmp_path)]) == policy
    (tmp_path / POLICY_FILE).write_text("cors: {max_age: 30, credentials: maybe}")
    with pytest.raises(DocumentError) as error:
        load_policy([str(tmp_path)])
    assert (error.value.pointer, error.value.reason) == ("/cors/credentials", "must be a bool")


def test_an_origin_list_wins_over_a_recorded_policy():
    from mockserver.serve.cors import Policy

    cors = Cors(["http://app.local"], [], policy=Policy(allowed=frozenset({ORIGIN}), methods="GET"))
    assert cors.allowed("http://app.local") and not cors.allowed(ORIGIN)
    assert cors.preflight("http://app.local", "DELETE", None)[0] == 200  # the mock's methods, not the recorded ones


def test_another_policy_keeps_the_settings_and_replaces_only_what_the_policy_decides():
    from mockserver.serve.cors import Policy

    cors = Cors([], ["X-Mock-Source"], max_age=30)
    local = cors.with_policy(Policy(allowed=frozenset({ORIGIN}), expose="X-Total", methods="GET", max_age=None))
    assert local is not cors and cors.allowed("https://evil.example")  # the old one is untouched (a request in flight)
    assert not local.allowed("https://evil.example") and local.allowed(ORIGIN)
    assert dict(local.simple(ORIGIN))[b"access-control-expose-headers"] == b"X-Mock-Source, X-Total"
    assert b"access-control-max-age" not in dict(local.preflight(ORIGIN, "GET", None)[1])
    again = local.with_policy(None)  # the policy file removed: the mock's defaults again
    assert again.allowed("https://evil.example") and dict(again.preflight(ORIGIN, "GET", None)[1])[
        b"access-control-max-age"] == b"30"  # fmt: skip
    assert Cors([ORIGIN], []).with_policy(Policy(allowed=frozenset({"http://other"}))).policy is None  # --cors-origin


def test_watch_rebuild_serves_an_edited_policy_file_and_keeps_the_old_one_through_a_broken_edit(tmp_path, capsys):
    """Watcher.rebuild, in process (tests/serve/test_watch.py drives the same through the file watcher)."""
    import yaml
    from starlette.testclient import TestClient

    from mockserver.serve.app import create_app
    from mockserver.serve.config import Config
    from mockserver.serve.cors import POLICY_FILE, Policy
    from mockserver.serve.watch import Watcher

    evil, path = "https://evil.example", tmp_path / POLICY_FILE
    path.write_text(yaml.safe_dump(Policy(allowed=frozenset({ORIGIN}), refused=frozenset({evil})).document()))
    config = Config(fixtures=str(tmp_path), request_log=False)
    app = create_app(config)
    watcher = Watcher(config, app)  # not started: rebuild() is what a change on disk calls
    with TestClient(app, base_url="http://mock") as client:  # type: ignore[arg-type]

        def allowed(origin: str) -> str | None:
            return client.get("/api/conversations/abc", headers={"Origin": origin}).headers.get(
                "access-control-allow-origin")  # fmt: skip

        assert (allowed(ORIGIN), allowed(evil)) == (ORIGIN, None)
        path.write_text(yaml.safe_dump(Policy(allowed=frozenset({evil})).document()))
        assert watcher.rebuild()
        assert (allowed(ORIGIN), allowed(evil)) == (None, evil)
        path.write_text("cors: {credentials: maybe}")
        assert not watcher.rebuild()
        assert "/cors/credentials" in capsys.readouterr().err and allowed(evil) == evil  # the previous one serves
        path.unlink()
        assert watcher.rebuild()
        assert allowed("https://any.example") == "https://any.example"  # no policy: the mock's allow-everything
