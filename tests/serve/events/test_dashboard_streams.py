"""The dashboard's Streams section in a real headless Chromium: a socket.io session's connection and frames, from
the journal, and a stream fault shown in the overrides table."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import socketio

from tests.browser import chromium
from tests.support import CONVERSATIONS, HANG_S, serve, wait_until

pytestmark = pytest.mark.e2e
FOLDER = str(Path(__file__).parent / "streams")


def test_the_streams_section_lists_connections_and_recent_frames():
    with serve(CONVERSATIONS, "--fixtures", FOLDER, "--no-request-log") as mock, chromium() as browser:
        received: list[object] = []
        sio = socketio.Client(reconnection=False)
        sio.on("oh_event", received.append)
        sio.connect(
            f"{mock.url}/?conversation_id=chat&latest_event_id=1", transports=["websocket"], wait_timeout=HANG_S
        )
        try:
            wait_until(lambda: len(received) >= 2, 10, "the replay")
            sid = sio.get_sid()
            httpx.post(f"{mock.url}/__mock/overrides", json={"stream": "chat", "fault": "drop", "after": 3})
            page = browser.open(f"{mock.url}/__mock/")
            page.wait("!!document.body && document.body.dataset.ready === '1'")
            page.wait("!document.getElementById('streams-section').hidden")
            page.wait("document.querySelectorAll('#connections tr').length === 1")
            row = page.evaluate("document.querySelector('#connections tr').textContent")
            frames = page.evaluate("[...document.querySelectorAll('#frames tr')].map((r) => r.textContent)")
            overrides = page.evaluate("document.getElementById('overrides').textContent")
        finally:
            sio.disconnect()
    assert sid in row and "chat" in row and "open" in row and "latest_event_id=1" in row
    assert len(frames) == 2 and all("server → client" in f and "oh_event" in f for f in frames)
    assert "STATUS$READY" in frames[0] and "third" in frames[1]  # newest first
    assert "socket.io stream chat" in overrides and "fault=drop, after 3 events" in overrides
