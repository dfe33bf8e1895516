"""`Router.match(method, raw_path)` on its own: literal segments beat templates, the raw path is matched segment by
segment (so %2F stays inside an id), a path with other methods is a 405, HEAD falls back to GET, the servers' prefix
is honoured."""

from __future__ import annotations

import pytest

from mockserver.contract.routing import FULL, METHOD, NONE, Router
from mockserver.contract.spec import Operation


def op(key: str) -> Operation:
    method, path = key.split(" ", 1)
    return Operation(method, path, "", [], False, {}, [])


KEYS = ["GET /pets/{petId}", "GET /pets/mine", "DELETE /pets/{petId}", "GET /pets", "POST /pets",
        "GET /files/{name}.{ext}", "HEAD /files/{name}.{ext}", "GET /users/{id}/pets/{petId}"]  # fmt: skip


@pytest.fixture(params=[False, True], ids=["contract order", "reversed"])
def router(request: pytest.FixtureRequest) -> Router:
    keys = list(reversed(KEYS)) if request.param else KEYS  # the contract's order must not matter
    return Router([op(key) for key in keys])


def test_a_literal_segment_beats_a_template(router):
    mine = router.match("GET", b"/pets/mine")
    assert (mine.kind, mine.operation.key if mine.operation else None, mine.params) == (FULL, "GET /pets/mine", {})
    other = router.match("GET", b"/pets/mine2")
    assert other.operation is not None and other.operation.key == "GET /pets/{petId}"
    assert other.params == {"petId": "mine2"}


def test_percent_escapes_are_decoded_inside_a_segment_never_split_on(router):
    found = router.match("GET", b"/pets/a%2Fb%20c")
    assert found.kind == FULL and found.operation is not None and found.operation.path == "/pets/{petId}"
    assert found.params == {"petId": "a/b c"} and found.bad_params == []
    assert router.match("GET", b"/pets/a/b").kind == NONE  # a real slash is another segment


def test_escapes_that_are_not_utf8_are_named(router):
    found = router.match("GET", b"/users/%ff/pets/ok")
    assert found.kind == FULL and found.bad_params == ["id"]
    assert found.params["petId"] == "ok"


def test_several_parameters_in_one_segment_and_in_many(router):
    assert router.match("GET", b"/files/report.final.pdf").params == {"name": "report", "ext": "final.pdf"}
    assert router.match("GET", b"/users/7/pets/9").params == {"id": "7", "petId": "9"}


def test_another_method_on_a_known_path_is_a_method_mismatch_listing_the_allowed(router):
    found = router.match("PUT", b"/pets/1")
    assert (found.kind, found.operation, found.allowed) == (METHOD, None, ["DELETE", "GET"])
    assert router.match("PATCH", b"/pets").allowed == ["GET", "POST"]


def test_head_falls_back_to_get_unless_the_contract_has_head(router):
    head = router.match("HEAD", b"/pets/1")
    assert head.kind == FULL and head.operation is not None and head.operation.key == "GET /pets/{petId}"
    own = router.match("HEAD", b"/files/a.b")
    assert own.operation is not None and own.operation.key == "HEAD /files/{name}.{ext}"


@pytest.mark.parametrize("path", [b"/", b"/pets/", b"/pets/1/extra", b"/nothing", b"/Pets/1", b""])
def test_anything_else_matches_nothing(router, path):
    assert router.match("GET", path).kind == NONE


def test_the_servers_prefix_is_required_and_stripped():
    router = Router([op("GET /"), op("GET /pets")], "/api/v1")
    assert router.match("GET", b"/api/v1/pets").kind == FULL
    root = router.match("GET", b"/api/v1")
    assert root.operation is not None and root.operation.path == "/"
    for path in (b"/pets", b"/api/v1x/pets", b"/api/pets"):
        assert router.match("GET", path).kind == NONE


def test_paths_are_listed_once_each_in_contract_order(router):
    assert sorted(router.paths) == ["/files/{name}.{ext}", "/pets", "/pets/mine", "/pets/{petId}",
                                    "/users/{id}/pets/{petId}"]  # fmt: skip
    assert Router([op(key) for key in KEYS]).paths[:2] == ["/pets/{petId}", "/pets/mine"]
