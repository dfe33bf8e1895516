"""bench/recording.py's comparison on canned answers (the run itself needs the real server: not part of make test)."""

from __future__ import annotations

import pytest

from bench.recording import AGREE, DIFFERS, HIDDEN, REDACTED_ONLY, VOLATILE, compare, counts, headline, loopback, scrub


def answer(probe: str, status: int = 200, body: str = "{}", **headers: str) -> dict:
    return {"probe": probe, "status": status, "headers": headers, "body": body}


def test_each_difference_gets_its_verdict():
    real = [
        answer("GET /same", body='{"a": 1, "b": [1, 2]}', **{"content-type": "application/json"}),
        answer("GET /uptime", body='{"uptime": 12.5}'),
        answer("GET /config", body='{"KEY_NAME": "phc_123", "mode": "oss"}'),
        answer("HEAD /refused", 404),
        answer("GET /cors", **{"access-control-allow-origin": "http://localhost:3001"}),
        answer("GET /config2", body='{"KEY_NAME": "phc_123", "mode": "oss"}'),
    ]
    before = [*real[:1], answer("GET /uptime", body='{"uptime": 3.0}'), *real[2:]]
    replay = [
        answer("GET /same", body='{"b": [1, 2], "a": 1}', **{"content-type": "application/json"}),  # same JSON
        answer("GET /uptime", body='{"uptime": 7.0}'),  # the real server does not repeat itself either
        answer("GET /config", body='{"KEY_NAME": "[redacted]", "mode": "oss"}'),
        answer("HEAD /refused", 200),
        answer("GET /cors"),
        answer("GET /config2", body='{"KEY_NAME": "[redacted]", "mode": "saas"}'),  # redacted, and more
    ]
    rows = compare(real, replay, before)
    assert [row.verdict for row in rows] == [AGREE, VOLATILE, REDACTED_ONLY, DIFFERS, DIFFERS, DIFFERS]
    assert rows[3].differences == ("status 404 vs 200",)
    assert rows[4].differences == ("access-control-allow-origin: 'http://localhost:3001' vs None",)
    assert counts(rows) == {AGREE: 1, VOLATILE: 1, REDACTED_ONLY: 1, DIFFERS: 3}
    assert headline(rows).startswith("the replay agrees with the real server on 1 of 6 probes; 1 differ because")
    assert [row.verdict for row in compare(real, real)] == [AGREE] * 6
    with pytest.raises(ValueError):
        compare(real, replay[:2])  # one answer per probe, or no comparison


def test_the_key_never_stays_and_only_loopback_is_taken():
    assert scrub('{"session_api_key": "s3cr3t"}', "s3cr3t") == f'{{"session_api_key": "{HIDDEN}"}}'
    assert scrub("text", "") == "text"
    assert loopback("http://127.0.0.1:3000/") == "http://127.0.0.1:3000"
    with pytest.raises(SystemExit, match="only a loopback server"):
        loopback("http://example.com:3000")
