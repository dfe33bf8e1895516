"""Fixture files loaded and indexed at start-up, and `FixtureIndex.find` on its own: exact path matches by lookup,
the rest in file order, names, `when: unauthorized`; every mistake a `DocumentError` with file, pointer and reason.
Then what recorded traffic needs: raw-path ("edge") fixtures, `flagged`, text bodies."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.contract.documents import DocumentError
from mockserver.contract.spec import Spec, load_spec
from mockserver.serve.config import Config
from mockserver.serve.pipeline.core import MockRequest, build_mock
from mockserver.serve.pipeline.fixtures import EDGES, fixture_files, load_fixtures, raw_key
from tests.support import CONVERSATION, KEY_HEADER

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
    assert (fixture.first.body_bytes, fixture.first.has_body) == (b'{"admin":false}', True)
    assert fixture.first.response_headers == {"X-Count": "3", "X-Flag": "false"}
    empty = load_fixtures(write(tmp_path / "e", {"e.yaml": "operation: getUser\nresponse: {status: 404}\n"}), spec)
    assert (empty[OP].by_name["e"].first.body_bytes, empty[OP].by_name["e"].first.has_body) == (b"", False)


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
        ({"a.yaml": "operation: getUser\nwhen: sometimes\n"}, "a.yaml", "/when", "one of request, unauthorized"),
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


# --- what recorded traffic needs: raw-path fixtures, `flagged`, text bodies (the built-in contract) ---------------

OPERATION = "operation: GET /api/conversations/{conversation_id}\n"
KEY = {KEY_HEADER.lower(): "k"}


def _mock(tmp_path: Path, **files: str):
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    return build_mock(Config(fixtures=str(tmp_path)))


def _get(mock, raw: bytes, method: str = "GET", query: dict[str, list[str]] | None = None):
    return mock.handle(MockRequest(method, raw, query or {}, dict(KEY))).answer


def test_an_edge_fixture_answers_its_raw_path_only(tmp_path):
    mock = _mock(
        tmp_path,
        slash="match: {method: GET, raw_path: /api/conversations/abc/}\n"
        "response: {status: 307, headers: {location: /api/conversations/abc}}\n",
        post="match: {method: POST, raw_path: /api/conversations/abc}\n"
        "response: {status: 405, headers: {allow: GET}, body: {detail: Method Not Allowed}}\n",
        paged="match: {raw_path: /api/conversations, query: {page: '2'}}\nresponse: {status: 404, body: {detail: x}}\n",
    )
    redirect = _get(mock, b"/api/conversations/abc/")
    assert (redirect.status, redirect.body) == (307, b"")
    assert dict(redirect.headers) == {"location": "/api/conversations/abc"}
    refused = _get(mock, b"/api/conversations/abc", "POST")
    assert (refused.status, refused.body, refused.source) == (405, b'{"detail":"Method Not Allowed"}', "fixture")
    assert _get(mock, b"/api/conversations/abc/", "POST").status == 404  # another method: the mock's own 404
    assert _get(mock, b"/api/conversations/xyz/").source == "error"
    assert _get(mock, b"/api/conversations", query={"page": ["2"]}).body == b'{"detail":"x"}'
    assert _get(mock, b"/api/conversations", query={"page": ["3"]}).source == "error"
    assert _get(mock, b"/api/conversations/abc").status == 200  # the operation is untouched
    assert len(mock.fixtures[EDGES].by_name) == 3


def test_a_head_refused_on_one_path_is_refused_on_every_path_of_its_operation(tmp_path):
    """A framework that routes no HEAD refuses it whatever the id: a recorded 405 (or a 404 the operation does not
    document) on one path answers HEAD on all of them; an answer that is not a refusal stays on its own path."""
    head = "match: {{method: HEAD, raw_path: /api/conversations/{}}}\nresponse: {{status: {}, headers: {{allow: GET}}}}"
    for status in (405, 404, 501):
        folder = tmp_path / str(status)
        folder.mkdir()
        mock = _mock(folder, refused=head.format("abc", status))
        for cid in (b"abc", b"xyz", b"x%2Fy"):
            answer = _get(mock, b"/api/conversations/" + cid, "HEAD")
            assert (answer.status, answer.source, dict(answer.headers)) == (status, "fixture", {"allow": "GET"})
        assert _get(mock, b"/api/conversations/xyz").status == 200  # GET is untouched
    mock = _mock(tmp_path / "405", answered=head.format("ok", 200))  # HEAD answered on one path: that path only
    assert _get(mock, b"/api/conversations/ok", "HEAD").status == 200
    assert _get(mock, b"/api/conversations/xyz", "HEAD").status == 405  # still the refusal recorded elsewhere
    folder = tmp_path / "answered"
    folder.mkdir()
    mock = _mock(folder, answered=head.format("ok", 200))
    assert _get(mock, b"/api/conversations/xyz", "HEAD").source != "fixture"  # GET's answer stands in


def test_a_head_404_the_operation_documents_answers_its_own_path_only(spec, tmp_path):
    head = "match: {method: HEAD, raw_path: /users/acme/%s}\nresponse: {status: %d}\n"
    folder = write(tmp_path, {"gone.yaml": head % ("gone", 404), "refused.yaml": head % ("other", 405)})
    refusals = load_fixtures(folder, spec)[EDGES].refusals
    assert list(refusals) == [OP] and refusals[OP].name == "refused"  # the 404 may be about that user alone
    folder = write(tmp_path / "only-404", {"gone.yaml": head % ("gone", 404)})
    assert load_fixtures(folder, spec)[EDGES].refusals == {}


@pytest.mark.parametrize(
    "text, pointer, words",
    [
        ("match: {raw_path: /api/conversations/abc}\nresponse: {status: 404}\n", "/match/raw_path",
         "is GET /api/conversations/{conversation_id} of the contract"),
        ("match: {raw_path: api/x}\nresponse: {status: 404}\n", "/match/raw_path", "starting with '/'"),
        ("match: {raw_path: '/x?a=1'}\nresponse: {status: 404}\n", "/match/raw_path", "no query"),
        ("match: {raw_path: /x y}\nresponse: {status: 404}\n", "/match/raw_path", "percent-encoded"),
        ("match: {raw_path: /x, method: FETCH}\nresponse: {status: 404}\n", "/match/method", "HTTP method"),
        ("match: {raw_path: /x, path: {a: b}}\nresponse: {status: 404}\n", "/match/path", "unknown key"),
        ("when: unauthorized\nmatch: {raw_path: /x}\nresponse: {status: 401}\n", "/when", "unknown key"),
        ("match: {raw_path: /x}\nresponse: {status: 42}\n", "/response/status", "HTTP status code"),
    ],
)  # fmt: skip
def test_edge_fixture_mistakes_name_pointer_and_reason(tmp_path, text, pointer, words):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(DocumentError) as caught:
        build_mock(Config(fixtures=str(tmp_path)))
    assert caught.value.pointer == pointer and words in caught.value.reason
    assert caught.value.file.endswith("bad.yaml")


def test_flagged_lets_an_answer_that_breaks_the_contract_load_with_a_warning(tmp_path):
    body = "response: {status: 404, body: {detail: Not Found}}\n"
    (tmp_path / "a.yaml").write_text(OPERATION + "match: {path: {conversation_id: a}}\n" + body)
    with pytest.raises(DocumentError, match="does not document status 404"):
        build_mock(Config(fixtures=str(tmp_path)))
    (tmp_path / "a.yaml").write_text(
        OPERATION
        + "flagged: ['response /status: status 404 is not documented']\nmatch: {path: {conversation_id: a}}\n"
        + body
    )
    mock = build_mock(Config(fixtures=str(tmp_path)))
    assert _get(mock, CONVERSATION.encode() + b"a").status == 404
    (warning,) = [w for w in mock.warnings if "flagged fixture" in w]
    assert "a.yaml" in warning and "status 404 is not documented" in warning  # the recorder's reason
    assert "does not document status 404" in warning  # and the loader's


WRITE_ONLY = """
openapi: 3.1.0
info: {title: secrets, version: '1'}
paths:
  /users/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: a user
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: string}
                  api_key: {anyOf: [{type: string, writeOnly: true}, {type: 'null'}]}
"""


def test_a_fixture_cannot_serve_a_write_only_property(tmp_path):
    (tmp_path / "api.yaml").write_text(WRITE_ONLY)
    spec = load_spec(tmp_path / "api.yaml")
    folder = tmp_path / "fixtures"
    write(folder, {"ann.yaml": "operation: GET /users/{id}\nmatch: {path: {id: ann}}\n"
                               "response: {body: {id: ann, api_key: null}}\n"})  # fmt: skip
    assert load_fixtures(str(folder), spec)  # null for a nullable writeOnly property (FastAPI's SecretStr | None)
    write(folder, {"ann.yaml": "operation: GET /users/{id}\nmatch: {path: {id: ann}}\n"
                               "response: {body: {id: ann, api_key: k3y}}\n"})  # fmt: skip
    with pytest.raises(DocumentError) as caught:  # a value is a leak
        load_fixtures(str(folder), spec)
    assert (caught.value.pointer, caught.value.reason) == (
        "/response/body/api_key",
        "'api_key' is writeOnly in the contract's 200 schema: a response never carries it (but null, when the "
        "property is nullable)",
    )
    write(folder, {"ann.yaml": "operation: GET /users/{id}\nmatch: {path: {id: ann}}\nresponse: {body: {id: ann}}\n"})
    assert load_fixtures(str(folder), spec)["GET /users/{id}"].by_path[("ann",)][0].body == {"id": "ann"}


@pytest.mark.parametrize("value", ["[]", "[1]", "{a: b}", "true"])
def test_flagged_must_list_reasons(tmp_path, value):
    (tmp_path / "a.yaml").write_text(OPERATION + f"flagged: {value}\nresponse: {{status: 200, body: null}}\n")
    with pytest.raises(DocumentError) as caught:
        build_mock(Config(fixtures=str(tmp_path)))
    assert caught.value.pointer == "/flagged"


def test_a_text_body_is_served_as_text(tmp_path):
    mock = _mock(
        tmp_path,
        text="match: {raw_path: /text}\nresponse: {status: 500, headers: {content-type: text/plain}, "
        "body: Internal Server Error}\n",
        json="match: {raw_path: /json}\nresponse: {status: 200, body: plain string}\n",
    )
    assert _get(mock, b"/text").body == b"Internal Server Error"
    assert _get(mock, b"/json").body == b'"plain string"'


def test_a_content_type_header_counts_in_any_case(tmp_path):
    mock = _mock(tmp_path, text="match: {raw_path: /text}\nresponse: {status: 500, headers: {CONTENT-TYPE: text/plain, "
                 "X-Extra: 1}, body: Internal Server Error}\n")  # fmt: skip
    answer = _get(mock, b"/text")
    assert (answer.body, answer.media) == (b"Internal Server Error", "text/plain")
    assert answer.headers == (("X-Extra", "1"),)  # sent once, as Content-Type, not twice


def test_raw_paths_have_one_spelling():
    assert raw_key(b"/api/conversations/a%2Fb") == "/api/conversations/a%2Fb"
    assert raw_key("/é x#y?".encode()) == "/%C3%A9%20x%23y%3F"
