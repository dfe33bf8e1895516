"""`--watch` with the real CLI: an edited fixture is served (within about a second when quiet), a broken edit keeps
the previous version serving and prints the same one-line error as start-up, and a fixed edit is served again."""

from __future__ import annotations

import httpx
import pytest

from tests.support import CONVERSATION, CONVERSATIONS, KEY_HEADER, run_cli, serve, wait_until

pytestmark = pytest.mark.e2e
KEY = {KEY_HEADER: "k"}
FIXTURE = (
    "operation: GET /api/conversations/{{conversation_id}}\nmatch: {{path: {{conversation_id: watched}}}}\n"
    "response: {{status: 200, body: {{conversation_id: watched, title: '{title}', status: {status}}}}}\n"
)


def test_watch_serves_edits_and_keeps_serving_through_a_broken_one(tmp_path):
    folder = tmp_path / "fixtures"
    folder.mkdir()
    watched = folder / "watched.yaml"
    watched.write_text(FIXTURE.format(title="before", status="RUNNING"))
    with (
        serve("--fixtures", str(folder), "--watch", "--no-request-log") as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):

        def title() -> str:
            return http.get(CONVERSATION + "watched", headers=KEY).json()["title"]

        assert title() == "before"
        wait_until(lambda: "watching the contract and fixtures" in server.stderr.text(), 10)
        watched.write_text(FIXTURE.format(title="after", status="RUNNING"))
        edited = wait_until(lambda: title() == "after", 10)

        watched.write_text(FIXTURE.format(title="broken", status="PAUSED"))
        wait_until(lambda: "mockserver serve: error:" in server.stderr.text(), 10)
        assert title() == "after"  # the previous version still serves
        error = next(line for line in server.stderr.lines if line.startswith("mockserver serve: error:"))
        assert "still serving the previous version" in server.stderr.text()

        watched.write_text(FIXTURE.format(title="fixed", status="STOPPED"))
        fixed = wait_until(lambda: title() == "fixed", 10)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "watched.yaml").write_text(FIXTURE.format(title="broken", status="PAUSED"))
    startup, _ = run_cli("serve", "--fixtures", str(broken), "--port", "0", timeout=30)
    assert startup.returncode == 2
    assert error.strip().replace(str(folder), "DIR") == startup.stderr.strip().replace(str(broken), "DIR")
    assert "Traceback" not in server.stderr.text()
    print(f"--watch: edit served after {edited * 1000:.0f} ms, fix after {fixed * 1000:.0f} ms")
    # reported, not asserted (no test depends on wall-clock speed): about 0.1 s on a quiet machine, the 50 ms debounce
    # included; wait_until fails only on a hang


def test_watch_with_stateful_an_edited_fixture_replaces_the_item_it_seeded(tmp_path):
    folder = tmp_path / "fixtures"
    folder.mkdir()
    one, two = folder / "one.yaml", folder / "two.yaml"
    one.write_text(FIXTURE.format(title="before", status="RUNNING"))
    two.write_text(FIXTURE.format(title="mine", status="RUNNING").replace("watched", "changed"))
    with (
        serve(CONVERSATIONS, "--fixtures", str(folder), "--watch", "--stateful", "--no-request-log") as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):

        def item(item_id: str) -> dict:
            return http.get(CONVERSATION + item_id, headers=KEY).json()

        assert item("watched")["title"] == "before" and item("changed")["title"] == "mine"
        wait_until(lambda: "watching the contract and fixtures" in server.stderr.text(), 10)
        # an item changed through the API keeps its change when its fixture is edited
        assert http.patch(CONVERSATION + "changed", json={"title": "edited in the app"}, headers=KEY).status_code < 300
        assert item("changed")["title"] == "edited in the app"
        one.write_text(FIXTURE.format(title="after", status="STOPPED"))
        two.write_text(FIXTURE.format(title="edited on disk", status="RUNNING").replace("watched", "changed"))
        wait_until(lambda: item("watched")["title"] == "after", 10)
        assert item("watched")["status"] == "STOPPED"
        loaded = lambda: http.get("/__mock/fixtures", params={"name": "two"}).json()["responses"][0]["body"]  # noqa: E731
        wait_until(lambda: loaded()["title"] == "edited on disk", 10)  # the edit is loaded ...
        assert item("changed")["title"] == "edited in the app"  # ... and the item keeps the app's change
        # a new fixture's item appears; a removed fixture's untouched item goes
        (folder / "three.yaml").write_text(FIXTURE.format(title="new", status="RUNNING").replace("watched", "fresh"))
        wait_until(lambda: http.get(CONVERSATION + "fresh", headers=KEY).json() is not None
                   and item("fresh")["title"] == "new", 10)  # fmt: skip
        one.unlink()
        wait_until(lambda: http.get(CONVERSATION + "watched", headers=KEY).json() is None, 10)


def test_watch_serves_an_edited_recorded_cors_policy(tmp_path):
    """`_cors.yaml` (the upstream's CORS, recorded by `--record`) is re-read like a fixture: an origin the edit allows
    is answered with it, one it no longer allows without; a broken edit keeps the previous policy."""
    import yaml

    from mockserver.serve.cors import POLICY_FILE, Policy

    folder = tmp_path / "fixtures"
    folder.mkdir()
    (folder / "watched.yaml").write_text(FIXTURE.format(title="t", status="RUNNING"))
    policy = folder / POLICY_FILE
    local, evil = "http://localhost:3001", "https://evil.example"
    policy.write_text(yaml.safe_dump(Policy(allowed=frozenset({local}), refused=frozenset({evil})).document()))
    with (
        serve("--fixtures", str(folder), "--watch", "--no-request-log") as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):

        def allowed(origin: str) -> str | None:
            answer = http.get(CONVERSATION + "watched", headers={**KEY, "Origin": origin})
            return answer.headers.get("access-control-allow-origin")

        assert (allowed(local), allowed(evil)) == (local, None)
        wait_until(lambda: "watching the contract and fixtures" in server.stderr.text(), 10)
        policy.write_text(yaml.safe_dump(Policy(allowed=frozenset({evil})).document()))
        wait_until(lambda: allowed(evil) == evil, 10)
        assert allowed(local) is None
        wait_until(lambda: "mockserver: reloaded" in server.stderr.text(), 10)  # said after the swap
        policy.write_text("cors: {allowed: not-a-list}")
        # the edit's own error (a reload that read the file half-written would say "still serving" too)
        wait_until(lambda: "/cors/allowed" in server.stderr.text(), 10)  # file, pointer and reason, as at start-up
        assert "still serving the previous version" in server.stderr.text()
        assert allowed(evil) == evil and allowed(local) is None
    assert "Traceback" not in server.stderr.text()
