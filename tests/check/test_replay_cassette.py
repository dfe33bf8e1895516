"""`mockserver replay` reads a cassette through the guarded document loader (contract/documents.py), as every other
document: an alias bomb, a file nested too deep, invalid YAML or a URL is one clear error (exit 2), never a hang or a
traceback. In process: nothing is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.check import replay
from mockserver.check.replay import ReplayError

CASSETTE = """\
mockserver: {base_url: 'http://127.0.0.1:9', spec: contract.yaml}
http_interactions:
- status: FAILURE
  recorded_at: '2026-01-02T03:04:05Z'
  request: {method: GET, uri: 'http://127.0.0.1:9/things/1', headers: {Accept: ['*/*']}}
  response: {status: {code: 500}}
  checks: [{name: not_a_server_error, status: FAILURE}]
"""


def test_a_cassette_reads_as_before(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CASSETTE)
    cassette = replay.load(str(path))
    assert cassette.base_url == "http://127.0.0.1:9" and cassette.spec == "contract.yaml"
    (failure,) = cassette.failures
    assert (failure.request.method, failure.request.url, failure.checks, failure.status) == (
        "GET", "http://127.0.0.1:9/things/1", ["not_a_server_error"], "500"
    )  # fmt: skip


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (BOMB, "alias bomb"),
        ("[" * 300 + "]" * 300, "nested"),
        ("http_interactions: [\n  - {a: 1\n", "invalid YAML"),
        ("", "empty document"),
    ],
    ids=["alias-bomb", "deep", "invalid", "empty"],
)
def test_a_hostile_or_broken_cassette_is_one_clear_error(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ReplayError) as error:
        replay.load(str(path))
    assert str(error.value).startswith(str(path)) and reason in str(error.value)


def test_a_cassette_is_a_file_never_fetched() -> None:
    with pytest.raises(ReplayError, match="a cassette is a file"):
        replay.load("http://127.0.0.1:9/cassette.yaml")


def test_a_missing_cassette_says_so(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="No such file"):
        replay.load(str(tmp_path / "missing.yaml"))
