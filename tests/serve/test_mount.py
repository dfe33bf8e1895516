"""Several contracts in one process (`serve A.yaml B.yaml`, `--mount /PREFIX=FILE`): each under its prefix, one
CORS, journal and admin API for all, overlapping operations refused at start-up naming both."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml

from mockserver.contract.documents import DocumentError
from mockserver.contract.mount import Mount, _intersect, _tokens, load_mounted, mounts, parse_mount
from mockserver.serve.config import Config, ConfigError
from mockserver.serve.pipeline.core import build_mock
from mockserver.serve.watch import watched
from tests.support import serve


def _pets(servers: str = "/pets-api") -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "pets", "version": "1"},
        "servers": [{"url": f"http://localhost:8000{servers}"}],
        "paths": {
            "/pets/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "get": {
                    "operationId": "getThing",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                        }
                    },
                },  # fmt: skip
            },
            "/health": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"pets": {"const": "up"}},
                                        "required": ["pets"],
                                    }
                                }
                            },
                        }
                    }
                }
            },
        },  # fmt: skip
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string", "enum": ["Rex", "Tom"]}},
                    "required": ["id", "name"],
                }
            },
        },  # fmt: skip
    }


def _users(servers: str = "/users-api") -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "users", "version": "1"},
        "servers": [{"url": servers}],
        "security": [{"key": []}],
        "paths": {
            "/users/{id}": {
                "get": {
                    "operationId": "getThing",  # the same operationId as the pets contract's
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                        }
                    },
                }
            },
            "/health": {
                "get": {
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"users": {"const": "up"}},
                                        "required": ["users"],
                                    }
                                }
                            },
                        }
                    },
                }
            },
        },  # fmt: skip
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {"login": {"type": "string", "pattern": "^u-"}},
                    "required": ["login"],
                }
            },
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
        },  # fmt: skip
    }


def _write(folder: Path, name: str, document: dict) -> str:
    path = folder / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


@pytest.fixture
def two(tmp_path: Path) -> tuple[str, str]:
    return _write(tmp_path, "pets.yaml", _pets()), _write(tmp_path, "users.yaml", _users())


def test_two_contracts_answer_each_under_its_own_prefix(
    client_factory: Callable[..., httpx.Client], two: tuple[str, str]
) -> None:
    client = client_factory(spec=list(two))
    pet = client.get("/pets-api/pets/3")
    assert pet.status_code == 200 and pet.json()["name"] in ("Rex", "Tom")  # pets' own Thing
    assert client.get("/pets-api/health").json() == {"pets": "up"}
    assert client.get("/users-api/health").json() == {"users": "up"}  # same path, the other contract
    assert client.get("/users-api/users/u1").status_code == 401  # users' global security kept
    user = client.get("/users-api/users/u1", headers={"X-Key": "anything"})
    assert user.status_code == 200 and re.match("^u-", user.json()["login"])  # users' own Thing, not pets'
    assert client.get("/pets/3").status_code == 404  # no prefix: neither contract
    assert client.get("/users-api/pets/3").status_code == 404


def test_cors_journal_and_admin_are_shared(client_factory: Callable[..., httpx.Client], two: tuple[str, str]) -> None:
    client = client_factory(spec=list(two))
    origin = {"Origin": "http://localhost:3000"}
    for path in ("/pets-api/health", "/users-api/health"):
        assert client.get(path, headers=origin).headers["access-control-allow-origin"] in ("*", origin["Origin"])
    journal = client.get("/__mock/requests").json()
    assert [e["path"] for e in journal["requests"]] == ["/pets-api/health", "/users-api/health"]
    operations = {o["path"] for o in client.get("/__mock/operations").json()["operations"]}
    assert {"/pets-api/pets/{id}", "/users-api/users/{id}", "/pets-api/health", "/users-api/health"} <= operations
    assert client.get("/__mock/health").json()["spec"] == "pets.yaml at /pets-api, users.yaml at /users-api"


def test_overlapping_operations_are_refused_naming_both(tmp_path: Path) -> None:
    pets = _write(tmp_path, "pets.yaml", _pets("/api"))
    users = _write(tmp_path, "users.yaml", _users("/api"))  # GET /api/health twice
    with pytest.raises(DocumentError) as caught:
        build_mock(Config(spec=[pets, users]))
    text = str(caught.value)
    assert text.startswith(f"{users}: /paths/~1health/get: GET /api/health would answer the same requests as ")
    assert f"GET /api/health of {pets} (/paths/~1health)" in text and "--mount" in text


def test_templates_that_can_match_one_path_overlap(tmp_path: Path) -> None:
    pets = _pets("/api")
    pets["paths"] = {"/things/{id}:cancel": {"post": {"responses": {"204": {"description": "x"}}}}}
    users = _users("/api")
    users["paths"] = {"/things/{name}": {"post": {"responses": {"204": {"description": "x"}}}},
                      "/things/{name}/more": {"post": {"responses": {"204": {"description": "x"}}}},
                      "/things/{name}.json": {"get": {"responses": {"204": {"description": "x"}}}}}  # fmt: skip
    a, b = _write(tmp_path, "a.yaml", pets), _write(tmp_path, "b.yaml", users)
    with pytest.raises(
        DocumentError, match=r"POST /api/things/\{name\} would answer .* POST /api/things/\{id\}:cancel"
    ):
        load_mounted([Mount(a), Mount(b)])
    del users["paths"]["/things/{name}"]  # a longer path, another method: no overlap
    b = _write(tmp_path, "b.yaml", users)
    assert len(load_mounted([Mount(a), Mount(b)]).operations) == 3


def test_mount_overrides_a_prefix(client_factory: Callable[..., httpx.Client], tmp_path: Path) -> None:
    pets = _write(tmp_path, "pets.yaml", _pets("/api"))
    users = _write(tmp_path, "users.yaml", _users("/api"))
    client = client_factory(spec=[pets, users], mount=[f"/v2={users}"])  # users' /api replaced: no overlap now
    assert client.get("/api/health").json() == {"pets": "up"}
    assert client.get("/v2/health").json() == {"users": "up"}
    assert client.get("/api/users/x").status_code == 404
    alone = client_factory(mount=[f"/other/={pets}"])  # a --mount alone is the one contract, at its prefix
    assert alone.get("/other/health").json() == {"pets": "up"}
    assert alone.get("/api/health").status_code == 404


def test_mount_spelling() -> None:
    assert parse_mount("/a/b=x.yaml") == Mount("x.yaml", "/a/b")
    assert parse_mount("/=x.yaml") == Mount("x.yaml", "")
    for bad in ("a=x.yaml", "/a", "/a=", "/{v}=x.yaml"):
        with pytest.raises(ValueError):
            parse_mount(bad)
    with pytest.raises(ConfigError, match="--mount must be /PREFIX=FILE"):
        Config(mount=["api=x.yaml"])
    assert mounts(None, None) == [Mount(None)]  # the built-in contract
    assert mounts(["a.yaml"], ["/x=b.yaml", "/y=a.yaml"]) == [Mount("a.yaml", "/y"), Mount("b.yaml", "/x")]


def test_fixtures_name_operations_of_each_contract(
    client_factory: Callable[..., httpx.Client], two: tuple[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "fixtures"
    folder.mkdir()
    (folder / "pet.yaml").write_text(yaml.safe_dump({  # a contract's own key, as written for it alone
        "operation": "GET /pets/{id}", "match": {"path": {"id": "7"}},
        "response": {"status": 200, "body": {"id": 7, "name": "Tom"}}}))  # fmt: skip
    (folder / "user.yaml").write_text(yaml.safe_dump({  # the mounted key
        "operation": "GET /users-api/users/{id}", "match": {"path": {"id": "me"}},
        "response": {"status": 200, "body": {"login": "u-me"}}}))  # fmt: skip
    (folder / "health.yaml").write_text(yaml.safe_dump({
        "operation": "GET /users-api/health", "response": {"status": 200, "body": {"users": "up"}}}))  # fmt: skip
    client = client_factory(spec=list(two), fixtures=[str(folder)])
    assert client.get("/pets-api/pets/7").json() == {"id": 7, "name": "Tom"}
    assert client.get("/users-api/users/me", headers={"X-Key": "k"}).json() == {"login": "u-me"}
    assert client.get("/__mock/requests?limit=1").json()["requests"][0]["source"] == "fixture"
    (folder / "ambiguous.yaml").write_text(yaml.safe_dump({  # GET /health: in both contracts
        "operation": "GET /health", "response": {"status": 200, "body": {"pets": "up"}}}))  # fmt: skip
    with pytest.raises(DocumentError, match="no operation 'GET /health'"):
        build_mock(Config(spec=list(two), fixtures=[str(folder)]))


def test_one_contract_keeps_its_spec_and_keys(two: tuple[str, str]) -> None:
    mock = build_mock(Config(spec=two[0]))  # a str, as the API took it before
    assert mock.spec.prefix == "/pets-api" and {op.key for op in mock.spec.operations} == {
        "GET /pets/{id}", "GET /health"}  # fmt: skip


def test_a_3_0_and_a_3_1_contract_are_served_together_each_read_as_its_version(
    client_factory: Callable[..., httpx.Client], tmp_path: Path
) -> None:
    old = _pets()
    old["openapi"] = "3.0.3"
    thing = old["components"]["schemas"]["Thing"]
    thing["properties"]["name"] = {"type": "string", "nullable": True, "enum": ["Rex", None]}  # 3.0's null
    thing["properties"]["id"] |= {"minimum": 1, "exclusiveMinimum": True}  # 3.0's boolean bound: > 1
    new = _users()
    new["components"]["schemas"]["Thing"]["properties"]["login"] = {"type": ["string", "null"], "pattern": "^u-"}
    a, b = _write(tmp_path, "a.yaml", old), _write(tmp_path, "b.yaml", new)
    mock = build_mock(Config(spec=[a, b]))
    assert mock.mistakes == [] and any("operationId 'getThing'" in w for w in mock.warnings)
    defs = mock.spec.schemas.defs
    pets, users = (defs[k] for k in sorted(defs))  # Thing, Thing_2: one per contract
    assert pets["properties"]["name"] == {"anyOf": [{"type": "string", "enum": ["Rex", None]}, {"type": "null"}]}
    assert pets["properties"]["id"]["exclusiveMinimum"] == 1 and "minimum" not in pets["properties"]["id"]
    assert users["properties"]["login"]["type"] == ["string", "null"]
    client = client_factory(spec=[a, b])
    body = client.get("/pets-api/pets/1").json()
    assert body["name"] in ("Rex", None) and body["id"] > 1
    assert client.get("/users-api/users/x", headers={"X-Key": "k"}).status_code == 200


def test_watch_watches_every_contract(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "u").mkdir()
    pets, users = _write(tmp_path / "p", "pets.yaml", _pets()), _write(tmp_path / "u", "users.yaml", _users())
    assert set(watched(Config(spec=[pets], mount=[f"/u={users}"], fixtures=[]))) == {tmp_path / "p", tmp_path / "u"}


def test_config_round_trips_several_contracts_through_the_environment(two: tuple[str, str]) -> None:
    config = Config(spec=list(two), mount=[f"/x={two[0]}"])
    again = Config.from_env(config.to_env())
    assert (again.spec, again.mount) == (list(two), [f"/x={two[0]}"])


def test_proxy_and_upstream_take_one_contract(two: tuple[str, str]) -> None:
    with pytest.raises(ConfigError, match="^proxy forwards to one server: give it one contract"):
        Config(spec=list(two), proxy=True, upstream="http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="^--upstream forwards to one server: give it one contract"):
        Config(spec=[two[0]], mount=[f"/x={two[1]}"], upstream="http://127.0.0.1:9")
    assert Config(spec=[two[0]], mount=[f"/x={two[0]}"], upstream="http://127.0.0.1:9").mount  # one, its prefix moved


@pytest.mark.e2e
def test_serve_two_contracts_from_the_command_line(two: tuple[str, str]) -> None:
    pets, users = two
    with serve(pets, "--mount", f"/u={users}") as server:
        banner = server.stderr.text()
        assert f"serving {pets} at /pets-api, {users} at /u (4 operations" in banner
        assert httpx.get(f"{server.url}/pets-api/health").json() == {"pets": "up"}
        assert httpx.get(f"{server.url}/u/health").json() == {"users": "up"}


@pytest.mark.parametrize(
    ("one", "other", "overlap"),
    [
        ("/a/{x}", "/a/b", True),
        ("/a/{x}.json", "/a/{y}.xml", False),
        ("/a/{+p}", "/a/b/c", True),  # a reserved expansion spans segments
        ("/a/{x}", "/a/b/c", False),
        ("/v{x}", "/{y}1", True),  # /v1
        ("/a", "/a/", True),
        ("/a#X-Target=1", "/a", True),  # a fragment condition is not part of the path
    ],
)
def test_which_templates_can_match_one_path(one: str, other: str, overlap: bool) -> None:
    assert _intersect(_tokens(one), _tokens(other)) is overlap
    assert _intersect(_tokens(other), _tokens(one)) is overlap


def test_one_path_two_methods_from_two_contracts(client_factory: Callable[..., httpx.Client], tmp_path: Path) -> None:
    pets, users = _pets(""), _users("")  # no prefixes: GET /pets/{id} from one, DELETE /pets/{id} from the other
    users["paths"] = {"/pets/{id}": {"delete": {
        "security": [], "responses": {"204": {"description": "gone"}},
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^p"}}],
    }}}  # fmt: skip
    client = client_factory(spec=[_write(tmp_path, "p.yaml", pets), _write(tmp_path, "u.yaml", users)])
    assert client.get("/pets/3").status_code == 200
    assert client.get("/pets/p3").status_code == 422  # the pets contract's integer path parameter
    assert client.delete("/pets/p3").status_code == 204
    assert client.delete("/pets/3").status_code == 422  # the users contract's own pattern
