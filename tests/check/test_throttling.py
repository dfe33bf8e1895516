"""The guarded session, first without a server (the adapter under it answers from memory, so budgets, 429 waits, the
body bound and `Retry-After` are tested in process; the real hanging and trickling servers are in
test_robustness.py), then end to end: 429 and 503 + Retry-After are waited out and sent again, never dropped and
never a failure: a crash hidden behind a burst of 429s is still found, an operation that never gets past them is
untested (exit 3), and a 429 to a request without credentials is no evidence of ignored auth. Waits go through a
fake clock the server shares, so no test sleeps; one end-to-end run uses real time, as a user would see it."""

from __future__ import annotations

import io
import time
from email.utils import formatdate
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse

from mockserver import cli
from mockserver.check import conformance, engine, throttling
from mockserver.check.findings import FAILED, INCONCLUSIVE, PASSED, Report
from mockserver.check.plan import Plan
from mockserver.check.throttling import BodyTooLarge, BudgetSpent, Counters, Limits, Pacer, make_session, retry_after
from mockserver.contract.spec import load_spec
from tests.support import free_port

from . import zoo
from .conftest import Served

URL = "http://127.0.0.1:9/x"


class Answers:
    """What the wire would have said: one (status, headers, body) per request, the last one repeated."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *answers: tuple[int, dict[str, str], bytes]) -> None:
        self.answers = list(answers)
        self.sent = 0
        monkeypatch.setattr(HTTPAdapter, "send", lambda adapter, request, **kw: self.send(adapter, request, **kw))

    def send(self, adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        status, headers, body = self.answers[min(self.sent, len(self.answers) - 1)]
        self.sent += 1
        raw = HTTPResponse(body=io.BytesIO(body), headers=headers, status=status, preload_content=False)
        return adapter.build_response(request, raw)


def session(limits: Limits | None = None, counters: Counters | None = None) -> requests.Session:
    return make_session(limits or Limits(), counters or Counters(), Pacer(None), engine.adopt_body)


def test_a_body_is_read_here_and_handed_to_requests(monkeypatch):
    Answers(monkeypatch, (200, {"Content-Type": "application/json"}, b'{"ok": true}'))
    counters = Counters()
    response = session(counters=counters).get(URL)
    assert (response.status_code, response.json(), counters.sent) == (200, {"ok": True}, 1)


def test_a_body_past_the_bound_is_an_error_of_its_own(monkeypatch):
    Answers(monkeypatch, (200, {}, b"x" * 2048))
    with pytest.raises(BodyTooLarge, match="larger than 1024 bytes"):
        session(Limits(max_body=1024)).get(URL)


def test_nothing_goes_out_past_max_requests(monkeypatch):
    wire = Answers(monkeypatch, (200, {}, b""))
    limits = Limits(max_requests=2)
    http = session(limits)
    http.get(URL)
    http.get(URL)
    assert not limits.stop.is_set()
    with pytest.raises(BudgetSpent, match="--max-requests 2 reached"):
        http.get(URL)
    assert wire.sent == 2 and limits.stop.is_set() and limits.stop.reason == "--max-requests 2 reached"


def test_nothing_goes_out_after_the_deadline_or_a_stop(monkeypatch):
    wire = Answers(monkeypatch, (200, {}, b""))
    with pytest.raises(BudgetSpent, match="the run is over"):
        session(Limits(deadline=time.monotonic() - 1)).get(URL)
    stopped = Limits()
    stopped.stop.set("interrupted")
    stopped.stop.set("a later reason")  # the first one wins
    with pytest.raises(BudgetSpent):
        session(stopped).get(URL)
    assert stopped.stop.reason == "interrupted"
    assert wire.sent == 0


def test_a_429_is_waited_out_and_sent_again_until_another_answer(monkeypatch):
    wire = Answers(monkeypatch, (429, {"Retry-After": "1"}, b""), (503, {"Retry-After": "2"}, b""), (200, {}, b"ok"))
    counters, clock = Counters(), zoo.FakeClock()
    response = session(Limits(clock=clock), counters).get(URL)
    assert (response.status_code, response.content) == (200, b"ok")
    assert (wire.sent, counters.sent, counters.rate_limited, clock.slept) == (3, 3, 2, [1.0, 2.0])


def test_a_429_that_never_ends_is_an_error_not_an_answer(monkeypatch):
    wire = Answers(monkeypatch, (429, {"Retry-After": "0"}, b""))
    clock = zoo.FakeClock()
    with pytest.raises(throttling.RateLimited, match="429 after waiting 5 s"):
        session(Limits(clock=clock, max_wait=5)).get(URL)
    # "Retry-After: 0" is not a licence to flood: at least MIN_WAIT between tries
    assert clock.slept == [throttling.MIN_WAIT] * 10 and wire.sent == 11


@pytest.mark.parametrize("retry", [None, "soon"])
def test_a_429_without_a_usable_wait_backs_off(monkeypatch, retry):
    wire = Answers(monkeypatch, *[(429, {"Retry-After": retry} if retry else {}, b"")] * 3, (200, {}, b""))
    clock = zoo.FakeClock()
    assert session(Limits(clock=clock)).get(URL).status_code == 200
    assert clock.slept == list(throttling.BACKOFF[:3]) and wire.sent == 4


def test_a_wait_longer_than_allowed_or_past_the_deadline_is_not_started(monkeypatch):
    wire = Answers(monkeypatch, (429, {"Retry-After": "5"}, b""))
    with pytest.raises(throttling.RateLimited):
        session(Limits(deadline=time.monotonic() + 2, clock=zoo.FakeClock())).get(URL)
    with pytest.raises(throttling.RateLimited):
        session(Limits(max_wait=4, clock=zoo.FakeClock())).get(URL)
    assert wire.sent == 2


def test_a_plain_503_is_an_answer(monkeypatch):
    Answers(monkeypatch, (503, {}, b""))
    assert session(Limits(clock=zoo.FakeClock())).get(URL).status_code == 503


def test_requests_go_to_base_url_only(monkeypatch):
    wire = Answers(monkeypatch, (200, {}, b""))
    with pytest.raises(throttling.OffTarget, match="only http://127.0.0.1:9 gets requests"):
        session(Limits(origin=throttling.origin(URL))).get("http://example.invalid/x")
    assert wire.sent == 0


def test_an_unreachable_server_in_a_few_words():
    try:
        requests.get(f"http://127.0.0.1:{free_port()}/", timeout=2)
    except requests.RequestException as exc:
        assert throttling.why_unreachable(exc) == "connection refused (is the server running, on that port?)"


def test_retry_after_reads_seconds_and_dates():
    assert retry_after("3") == 3.0 and retry_after("-4") == 0.0 and retry_after("1.5") == 1.5
    assert retry_after(formatdate(time.time() - 60, usegmt=True)) == 0.0
    assert 50 < (retry_after(formatdate(time.time() + 60, usegmt=True)) or 0) <= 60
    assert retry_after(None) is None and retry_after("") is None and retry_after("later") is None


def test_the_pacer_spaces_slots_whichever_thread_asks():
    pacer = Pacer(4.0)
    began = time.monotonic()
    for _ in range(3):
        pacer.wait(lambda: True)  # stopped: no sleeping, only the bookkeeping
    assert pacer.interval == 0.25
    assert began + 0.75 <= pacer.next_slot < began + 0.75 + 0.5
    idle = Pacer(None)
    idle.wait(lambda: False)
    assert idle.next_slot == 0.0


def answer(status: int, retry_after: str | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def test_what_counts_as_come_back_later() -> None:
    assert throttling.come_back_in(answer(429, "1"), 0) == 1.0
    assert throttling.come_back_in(answer(429, "0"), 0) == throttling.MIN_WAIT  # no flood on "Retry-After: 0"
    assert throttling.come_back_in(answer(503, "2"), 0) == 2.0
    assert throttling.come_back_in(answer(429), 0) == throttling.BACKOFF[0]  # no header: back off, 1, 2, 4 ... s
    assert throttling.come_back_in(answer(429), 3) == throttling.BACKOFF[3]
    assert throttling.come_back_in(answer(429), 99) == throttling.BACKOFF[-1]
    assert throttling.come_back_in(answer(503), 0) is None  # a plain 503 is a server error, for the checks
    assert throttling.come_back_in(answer(500, "1"), 0) is None
    assert throttling.come_back_in(answer(200, "1"), 0) is None


def run(app: Any, clock: zoo.FakeClock, **options: Any) -> Report:
    with Served(app) as served:
        plan = Plan(served.url, api_key=zoo.KEY, seed=1, max_examples=5, progress=False, **options)
        return conformance.run(plan, load_spec(None), clock=clock)


@pytest.mark.e2e
@pytest.mark.parametrize("after", [0, 4, 12], ids=["from-the-start", "during-examples", "later"])
def test_a_burst_of_429s_does_not_hide_the_long_id_500(after: int) -> None:
    clock = zoo.FakeClock()
    server = zoo.RateLimited(clock, seconds=3, after=after)
    report = run(server, clock)
    assert server.limited >= 3 and clock.slept, (server.limited, clock.slept)  # 429s came, and were waited out
    assert report.exit_code == FAILED, report
    [finding] = report.findings
    assert (finding.check, finding.status, finding.cause) == ("not_a_server_error", 500, "over 255 bytes in path")
    assert not report.untested
    assert "waited" in " ".join(report.warnings)


@pytest.mark.e2e
@pytest.mark.parametrize("after", [0, 4])
def test_a_burst_of_429s_on_a_healthy_server_passes(after: int) -> None:
    clock = zoo.FakeClock()
    server = zoo.RateLimited(clock, seconds=3, after=after, long_id_500=False)
    report = run(server, clock)
    assert server.limited >= 3
    assert report.exit_code == PASSED, report
    assert not report.findings and not report.untested


@pytest.mark.e2e
def test_503_with_retry_after_is_waited_out_too() -> None:
    clock = zoo.FakeClock()
    server = zoo.RateLimited(clock, seconds=3, after=2, status=503)
    report = run(server, clock)
    assert server.limited >= 3
    assert report.exit_code == FAILED and [f.status for f in report.findings] == [500], report


@pytest.mark.e2e
def test_a_server_that_never_stops_saying_later_is_inconclusive() -> None:
    clock = zoo.FakeClock()
    server = zoo.RateLimited(clock, seconds=float("inf"), after=3)
    report = run(server, clock)
    assert report.exit_code == INCONCLUSIVE, report
    assert not report.findings  # no ignored_auth, no "undocumented 429": a 429 proves nothing
    assert list(report.untested) == ["GET /api/conversations/{conversation_id}"]
    assert "429 after waiting" in report.untested["GET /api/conversations/{conversation_id}"]
    # Each request waited up to the bound and no longer (in fake time: the test itself did not wait)
    assert max(clock.slept) <= throttling.MAX_WAIT and sum(clock.slept) >= throttling.MAX_WAIT - 1


@pytest.mark.e2e
def test_429_to_requests_without_credentials_is_not_ignored_auth() -> None:
    # The auth probes (ours and the checker's) meet 429s first; they must wait, then see the 401
    clock = zoo.FakeClock()
    server = zoo.RateLimited(clock, seconds=3, only_without_key=True, long_id_500=False)
    report = run(server, clock)
    assert server.limited >= 1
    assert report.exit_code == PASSED, report
    assert not [f for f in report.findings if f.check == "ignored_auth"]


@pytest.mark.e2e
def test_429_forever_to_requests_without_credentials_is_untested_not_ignored_auth() -> None:
    clock = zoo.FakeClock()
    server = zoo.RateLimited(clock, seconds=float("inf"), only_without_key=True, long_id_500=False)
    report = run(server, clock)
    assert not report.findings, report.findings
    assert report.exit_code == INCONCLUSIVE and report.untested, report


@pytest.mark.e2e
@pytest.mark.parametrize("long_id_500,expected", [(True, 1), (False, 0)])
def test_check_command_against_429_for_its_first_3_seconds(
    long_id_500: bool, expected: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a user sees it, in real time: 429 + Retry-After: 1 to everything for 3 s, then real OpenHands 0.53."""
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    clock = zoo.RealClock()
    server = zoo.RateLimited(clock, seconds=3, long_id_500=long_id_500)
    with Served(server) as served:
        clock.start = time.monotonic()  # the server's first 3 s start now
        code = cli.main(["check", served.url, "--seed", "1", "--no-progress"])
    out = capsys.readouterr().out
    assert server.limited >= 3, server.statuses
    assert code == expected, out
    assert "waited" in out and "INCONCLUSIVE" not in out
    if long_id_500:
        assert out.count("not_a_server_error: 1 distinct failure") == 1, out
        assert "Cause: over 255 bytes in path" in out
    else:
        assert "PASSED: 0 distinct failures" in out


@pytest.mark.e2e
def test_inconclusive_is_exit_3_and_says_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # fuzz's --duration bounds the waiting: past it, a case still waiting leaves its operation untested
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    server = zoo.RateLimited(zoo.RealClock(), seconds=float("inf"), after=3)
    with Served(server) as served:
        code = cli.main(["fuzz", served.url, "--seed", "1", "--no-progress", "--duration", "3", "--cassette", ""])
    out = capsys.readouterr().out
    assert code == 3, out
    assert "untested: GET /api/conversations/{conversation_id}: 429 after waiting" in out
    assert "INCONCLUSIVE" in out.splitlines()[-1] and "(1 not fully tested)" in out.splitlines()[-1]
