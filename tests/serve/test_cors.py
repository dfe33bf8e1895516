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
