"""A real headless Chromium for tests, driven over the DevTools protocol with `websockets` (already installed with
uvicorn[standard]): no Playwright or Selenium, no browser download. Debian's `chromium` is started on a free
loopback port with a throwaway profile and always stopped, with every process it started.

Rules: every wait has a deadline; the browser only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import quote

from websockets.sync.client import connect

from tests.support import free_port, require

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
    "--disable-default-apps", "--no-default-browser-check", "--disable-dev-shm-usage",
]  # fmt: skip


class Page:
    """One tab: `evaluate` runs JavaScript (promises awaited), `wait` polls an expression until it is truthy."""

    def __init__(self, url: str) -> None:
        self.stack = ExitStack()  # websockets 17 wants connect() as a context manager
        self.socket = self.stack.enter_context(connect(url, max_size=None, open_timeout=10))
        self.ids = itertools.count(1)

    def call(self, method: str, timeout: float = 20, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{method}: no answer within {timeout} s")
            message = json.loads(self.socket.recv(timeout=left))
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str, timeout: float = 20) -> Any:
        result = self.call("Runtime.evaluate", timeout, expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError(f"JavaScript error: {details.get('exception', {}).get('description') or details}")
        return result["result"].get("value")

    def wait(self, expression: str, timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"still false after {timeout} s: {expression}")
            time.sleep(0.05)

    def screenshot(self, path: str) -> None:
        import base64

        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as out:
            out.write(base64.b64decode(data))

    def close(self) -> None:
        self.stack.close()


class Browser:
    def __init__(self, port: int, process: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.process = process
        self.pages: list[Page] = []

    def _json(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback only
            return json.loads(answer.read())

    def open(self, url: str) -> Page:
        target = self._json(f"/json/new?{quote(url, safe='')}", method="PUT")
        page = Page(target["webSocketDebuggerUrl"])
        self.pages.append(page)
        page.call("Page.enable")
        page.wait(f"location.href === {json.dumps(url)} && document.readyState === 'complete' && !!document.body")
        return page


@contextmanager
def chromium() -> Iterator[Browser]:
    binary = require("chromium")
    port = free_port()
    profile = tempfile.mkdtemp(prefix="mockserver-chromium-")
    process = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", f"--remote-debugging-port={port}",
         "--remote-debugging-address=127.0.0.1", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    browser = Browser(port, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                browser._json("/json/version")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("chromium did not open its DevTools port") from None
                time.sleep(0.05)
        yield browser
    finally:
        for page in browser.pages:
            try:
                page.close()
            except Exception:  # noqa: BLE001 - the browser may already be gone
                pass
        try:
            os.killpg(process.pid, signal.SIGTERM)  # chromium and the helpers it started, in its own session
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
