"""Fixture files loaded and indexed at start-up, and `FixtureIndex.find` on its own: exact path matches by lookup,
the rest in file order, names, `when: unauthorized`; every mistake a `DocumentError` with file, pointer and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.contract.documents import DocumentError
from mockserver.contract.spec import Spec, load_spec
from mockserver.serve.fixtures import fixture_files, load_fixtures

CONTRACT = """
openapi: 3.1.0
info: {title: fixtures, version: '1'}
paths:
  /users/{org}/{id}:
    get:
      operationId: getUser
      parameters:
        - {name: org, in: path, required: true, schema: {type: string}}
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        '200':
          description: a user
          content:
            application/json:
              schema: {type: object, properties: {name: {type: string}, admin: {type: boolean}}}
        '404': {description: none}
"""
OP = "GET /users/{org}/{id}"


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Spec:
    path: Path = tmp_path_factory.mktemp("fixtures") / "api.yaml"
    path.write_text(CONTRACT)
    return load_spec(path)


def write(folder: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return str(folder)


def test_exact_path_matches_then_partial_ones_in_file_order(spec, tmp_path):
    folder = write(tmp_path, {
        "a-exact.yaml": "operation: getUser\nmatch: {path: {org: acme, id: '1'}}\nresponse: {body: {name: one}}\n",
        "b-admin.yaml": "operation: getUser\nmatch: {path: {org: acme, id: '1'}, query: {role: admin}}\n"
                        "response: {body: {name: one, admin: true}}\n",
        "c-org.yaml": "operation: getUser\nmatch: {path: {org: acme}}\nresponse: {body: {name: anyone at acme}}\n",
        "d-header.yaml": "operation: getUser\nmatch: {headers: {X-Tenant: blue}}\nresponse: {status: 404}\n",
    })  # fmt: skip
    index = load_fixtures(folder, spec)[OP]
    assert index.path_names == ("org", "id")
    assert [f.name for f in index.by_path[("acme", "1")]] == ["a-exact", "b-admin"]
    assert [f.name for f in index.others] == ["c-org", "d-header"]

    def found(path: dict[str, str], query: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None):
        fixture = index.find(path, query or {}, headers or {})
        return fixture.name if fixture else None

    assert found({"org": "acme", "id": "1"}) == "a-exact"  # the first exact one, extra query or not
    assert found({"org": "acme", "id": "1"}, {"role": ["user", "admin"]}) == "a-exact"
    assert found({"org": "acme", "id": "2"}) == "c-org"
    assert found({"org": "other", "id": "2"}, headers={"x-tenant": "blue"}) == "d-header"  # names lower-cased
    assert found({"org": "other", "id": "2"}, headers={"x-tenant": "Blue"}) is None  # values exactly
    assert found({"org": "other", "id": "2"}) is None


def test_a_query_match_needs_one_of_the_values(spec, tmp_path):
    folder = write(tmp_path, {
        "admin.yaml": "operation: getUser\nmatch: {path: {org: o, id: i}, query: {role: admin, active: true}}\n"
                      "response: {body: {name: boss}}\n",
    })  # fmt: skip
    index = load_fixtures(folder, spec)[OP]
    assert index.by_path[("o", "i")][0].query == {"role": "admin", "active": "true"}  # YAML true is "true"
    assert index.find({"org": "o", "id": "i"}, {"role": ["user", "admin"], "active": ["true"]}, {}) is not None
    assert index.find({"org": "o", "id": "i"}, {"role": ["admin"]}, {}) is None


def test_names_default_to_the_file_stem_or_stem_and_index(spec, tmp_path):
    folder = write(tmp_path, {
        "sub/one.yml": "operation: getUser\nresponse: {status: 404}\n",
        "many.json": '[{"operation": "getUser", "response": {"status": 404}},'
                     ' {"operation": "getUser", "name": "named", "response": {"status": 404}}]',
        "notes.txt": "not a fixture",
    })  # fmt: skip
    index = load_fixtures(folder, spec)[OP]
    assert set(index.by_name) == {"one", "many-0", "named"}
    assert [p.name for p in fixture_files(folder)] == ["many.json", "one.yml"]


def test_an_unauthorized_fixture_is_kept_apart(spec, tmp_path):
    folder = write(tmp_path, {"deny.yaml": "operation: getUser\nwhen: unauthorized\nresponse: {body: {detail: no}}\n"})
    index = load_fixtures(folder, spec)[OP]
    assert index.unauthorized is not None and index.unauthorized.status == 401  # undocumented: not checked
    assert index.find({"org": "a", "id": "b"}, {}, {}) is None


def test_bodies_are_serialized_once_and_headers_kept(spec, tmp_path):
    folder = write(tmp_path, {
        "h.yaml": "operation: getUser\nresponse: {headers: {X-Count: 3, X-Flag: false}, body: {admin: false}}\n",
    })  # fmt: skip
    fixture = load_fixtures(folder, spec)[OP].by_name["h"]
    assert (fixture.body_bytes, fixture.has_body) == (b'{"admin":false}', True)
    assert fixture.response_headers == {"X-Count": "3", "X-Flag": "false"}
    empty = load_fixtures(write(tmp_path / "e", {"e.yaml": "operation: getUser\nresponse: {status: 404}\n"}), spec)
    assert (empty[OP].by_name["e"].body_bytes, empty[OP].by_name["e"].has_body) == (b"", False)


@pytest.mark.parametrize(
    ("files", "file", "pointer", "reason"),
    [
        ({"a.yaml": "operation: getUser\nname: x\nresponse: {status: 404}\n",
          "b.yaml": "operation: getUser\nname: x\nresponse: {status: 404}\n"}, "b.yaml", "/name", "already used by"),
        ({"a.yaml": "operation: getUser\nresponse: {body: {admin: maybe}}\n"}, "a.yaml", "/response/body/admin",
         "does not match the contract's 200 schema"),
        ({"a.yaml": "- operation: getUser\n- operation: nope\n"}, "a.yaml", "/1/operation", "no operation 'nope'"),
        ({"a.yaml": "operation: getUser\nmatch: {query: {q: [1, 2]}}\n"}, "a.yaml", "/match/query/q",
         "must be a string, number or boolean"),
        ({"a.yaml": "operation: getUser\nresponse: {status: true}\n"}, "a.yaml", "/response/status",
         "must be an HTTP status code"),
        ({"a.yaml": "operation: getUser\nresponse: {delay_ms: 600001}\n"}, "a.yaml", "/response/delay_ms",
         "0..600000"),
        ({"a.yaml": "operation: getUser\nwhen: sometimes\n"}, "a.yaml", "/when", "'request' or 'unauthorized'"),
        ({"a.yaml": "operation: getUser\nmatch: {cookies: {}}\n"}, "a.yaml", "/match/cookies", "unknown key"),
        ({"a.yaml": "operation: getUser\nextra: 1\n"}, "a.yaml", "/extra", "unknown key"),
        ({"a.yaml": "operation: getUser\nresponse: {status: 500}\n"}, "a.yaml", "/response/status",
         "does not document status 500 (it has: 200, 404)"),
    ],
)  # fmt: skip
def test_mistakes_name_file_pointer_and_reason(spec, tmp_path, files, file, pointer, reason):
    with pytest.raises(DocumentError) as caught:
        load_fixtures(write(tmp_path, files), spec)
    message = str(caught.value)
    assert str(tmp_path / file) in message and pointer in message and reason in message


def test_only_a_folder_is_a_fixtures_folder(tmp_path):
    (tmp_path / "file.yaml").write_text("")
    for folder in (tmp_path / "missing", tmp_path / "file.yaml"):
        with pytest.raises(DocumentError, match="does not exist or is not a folder"):
            fixture_files(str(folder))


def test_no_folder_means_no_fixtures(spec):
    assert load_fixtures(None, spec) == {}
