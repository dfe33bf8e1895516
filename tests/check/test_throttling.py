"""The guarded session without a server: the adapter under it answers from memory, so budgets, 429 waits, the body
bound and `Retry-After` are tested in process (the real hanging and trickling servers are in test_robustness.py)."""

from __future__ import annotations

import io
import time
from email.utils import formatdate
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse

from mockserver.check import engine, throttling
from mockserver.check.throttling import BodyTooLarge, BudgetSpent, Counters, Limits, Pacer, make_session, retry_after

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
    spent: list[bool] = []
    http = session(Limits(max_requests=2, on_budget_spent=lambda: spent.append(True)))
    http.get(URL)
    http.get(URL)
    with pytest.raises(BudgetSpent, match="--max-requests 2 reached"):
        http.get(URL)
    assert wire.sent == 2 and spent == [True]


def test_nothing_goes_out_after_the_deadline_or_a_stop(monkeypatch):
    wire = Answers(monkeypatch, (200, {}, b""))
    with pytest.raises(BudgetSpent, match="the run is over"):
        session(Limits(deadline=time.monotonic() - 1)).get(URL)
    with pytest.raises(BudgetSpent):
        session(Limits(stopped=lambda: True)).get(URL)
    assert wire.sent == 0


def test_a_429_is_waited_out_and_retried_a_few_times(monkeypatch):
    wire = Answers(monkeypatch, (429, {"Retry-After": "0"}, b""), (429, {"Retry-After": "0"}, b""), (200, {}, b"ok"))
    counters = Counters()
    response = session(counters=counters).get(URL)
    assert (response.status_code, response.content) == (200, b"ok")
    assert (wire.sent, counters.sent, counters.rate_limited) == (3, 3, 2)
    always = Answers(monkeypatch, (429, {"Retry-After": "0"}, b""))
    assert session().get(URL).status_code == 429
    assert always.sent == throttling.RATE_LIMIT_RETRIES + 1


@pytest.mark.parametrize("retry", [None, "soon", str(throttling.MAX_RETRY_AFTER + 1)])
def test_a_429_without_a_usable_or_reasonable_wait_is_returned_at_once(monkeypatch, retry):
    wire = Answers(monkeypatch, (429, {"Retry-After": retry} if retry else {}, b""))
    counters = Counters()
    assert session(counters=counters).get(URL).status_code == 429
    assert (wire.sent, counters.rate_limited) == (1, 1)


def test_a_wait_past_the_deadline_is_not_started(monkeypatch):
    wire = Answers(monkeypatch, (429, {"Retry-After": "5"}, b""))
    assert session(Limits(deadline=time.monotonic() + 2)).get(URL).status_code == 429
    assert wire.sent == 1


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
