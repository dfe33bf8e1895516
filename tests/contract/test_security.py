"""Where the key goes for each kind of security scheme, and that redaction and curl lines cover every form of it."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest

from mockserver.check import reporting
from mockserver.check.findings import Request
from mockserver.contract import security

DOCUMENT = {
    "components": {
        "securitySchemes": {
            "header": {"type": "apiKey", "in": "header", "name": "X-Key"},
            "query": {"type": "apiKey", "in": "query", "name": "key"},
            "bearer": {"type": "http", "scheme": "Bearer"},
            "basic": {"type": "http", "scheme": "basic"},
            "oauth": {"type": "oauth2", "flows": {}},
            "oidc": {"type": "openIdConnect", "openIdConnectUrl": "http://127.0.0.1/.well-known"},
            "digest": {"type": "http", "scheme": "digest"},
        }
    }
}


def test_each_scheme_gets_its_form() -> None:
    found = {name: scheme for name, scheme in security.parse_schemes(DOCUMENT, "api.yaml").items() if scheme.fillable}
    assert set(found) == {"header", "query", "bearer", "basic", "oauth", "oidc"}  # digest: nothing to send
    sent = {name: (s.location, s.parameter, s.wire_value("k")) for name, s in found.items()}
    assert sent == {
        "header": ("header", "X-Key", "k"),
        "query": ("query", "key", "k"),
        "bearer": ("header", "Authorization", "Bearer k"),
        "basic": ("header", "Authorization", "Basic " + base64.b64encode(b":k").decode()),
        "oauth": ("header", "Authorization", "Bearer k"),
        "oidc": ("header", "Authorization", "Bearer k"),
    }


@pytest.mark.parametrize(
    ("key", "pair"), [("secret", ("", "secret")), ("alice:s:e", ("alice", "s:e")), (":pw", ("", "pw"))]
)
def test_basic_reads_user_and_password(key: str, pair: tuple[str, str]) -> None:
    assert security.basic_user(key) == pair


def test_schemathesis_config_holds_the_key_literally() -> None:
    from schemathesis.config import SchemathesisConfig

    key = "u${HOME}:p$${x}"  # Schemathesis would read `${HOME}` as an environment variable
    data = security.checker_auth(security.parse_schemes(DOCUMENT, "api.yaml").values(), key)
    assert set(data["headers"]) == {"X-Key"}
    assert set(data["auth"]["openapi"]) == {"query", "bearer", "basic", "oauth", "oidc"}
    config = SchemathesisConfig.from_dict({"base-url": "http://127.0.0.1:1", **data})
    project = config.projects.get_default()
    schemes = project.auth.openapi.schemes
    assert project.headers == {"X-Key": key}
    assert schemes["bearer"].bearer == key and schemes["oauth"].bearer == key and schemes["query"].api_key == key
    assert (schemes["basic"].username, schemes["basic"].password) == ("u${HOME}", "p$${x}")


@pytest.mark.parametrize("key", ["plain-key", "user:pa ss/+$"])
def test_every_form_is_redacted(key: str) -> None:
    token = base64.b64encode((key if ":" in key else f":{key}").encode()).decode()
    text = reporting.redact(f"Bearer {key} / Basic {token} / ?{urlencode({'key': key})}", key)
    assert key not in text and token not in text
    assert text.count(reporting.KEY_VARIABLE) == 3


@pytest.mark.parametrize(("key", "user"), [("plain-key", ":"), ("alice:pw", "")])
def test_curl_sends_the_variable(key: str, user: str) -> None:
    basic = security.basic_authorization(key)
    request = Request("GET", "http://127.0.0.1/x", {"Authorization": basic, "X-Key": f"{key}$`"}, None)
    line = reporting.curl(request, key)
    # The Basic header becomes -u; anything around the key is escaped so the shell expands only the variable
    assert line == (
        f'curl -X GET http://127.0.0.1/x -u "{user}$MOCKSERVER_API_KEY" -H "X-Key: $MOCKSERVER_API_KEY\\$\\`"'
    )


# --- the mock's side ------------------------------------------------------------------------------------------------

SCHEMES = security.parse_schemes(DOCUMENT, "api.yaml")
COOKIE = security.ApiKey("cookie", "apiKey", "cookie", "sid")


def token(pair: str) -> str:
    return base64.b64encode(pair.encode()).decode()


@pytest.mark.parametrize(
    ("name", "headers", "query", "cookies", "found"),
    [
        ("header", {"x-key": "k1"}, {}, {}, "k1"),  # the mock lower-cases header names
        ("header", {"x-key": ""}, {}, {}, None),  # empty is missing
        ("header", {}, {"X-Key": ["k1"]}, {"X-Key": "k1"}, None),  # only where the scheme says
        ("query", {}, {"key": ["first", "last"]}, {}, "last"),
        ("query", {}, {"key": [""]}, {}, None),
        ("bearer", {"authorization": "Bearer tok"}, {}, {}, "tok"),
        ("bearer", {"authorization": "bearer  tok "}, {}, {}, "tok"),  # the scheme name in any case
        ("bearer", {"authorization": "Bearer "}, {}, {}, None),
        ("bearer", {"authorization": "Basic tok"}, {}, {}, None),
        ("oauth", {"authorization": "Bearer tok"}, {}, {}, "tok"),
        ("basic", {"authorization": "Basic dTpw"}, {}, {}, "dTpw"),
        ("basic", {"authorization": "Bearer dTpw"}, {}, {}, None),
    ],
)
def test_credential_is_read_where_the_scheme_says(name, headers, query, cookies, found):
    assert SCHEMES[name].credential(headers, query, cookies) == found


def test_a_cookie_credential_and_mutual_tls():
    assert COOKIE.credential({}, {}, {"sid": "c1"}) == "c1"
    assert COOKIE.credential({"sid": "c1"}, {"sid": ["c1"]}, {}) is None
    mtls = security.MutualTLS("tls", "mutualTLS", scheme="")
    assert mtls.credential({}, {}, {}) == "mutual-tls"  # the TLS layer checks it, not HTTP
    assert not mtls.fillable and mtls.challenge() is None


@pytest.mark.parametrize(
    ("name", "value", "key", "accepted"),
    [
        ("header", "k1", "k1", True),
        ("header", "k1 ", "k1", False),
        ("header", "K1", "k1", False),
        ("header", "ключ", "ключ", True),  # not only ASCII
        ("basic", token("alice:pw"), "alice:pw", True),  # user:password
        ("basic", token("bob:pw"), "alice:pw", False),
        ("basic", token("alice:pw:x"), "alice:pw", False),
        ("basic", token("anyone:pw"), "pw", True),  # a key without a colon is the password of any user
        ("basic", token(":pw"), "pw", True),
        ("basic", token("anyone:nope"), "pw", False),
        ("basic", token("alice:pw"), token("alice:pw"), True),  # the base64 token itself also passes
        ("basic", "not base64!", "pw", False),
        ("basic", token("é:pw"), "pw", True),  # a user outside ASCII
        ("bearer", "tok", "tok", True),
        ("bearer", token(":tok"), "tok", False),  # base64 is HTTP basic's business only
    ],
)
def test_accepts_compares_with_the_configured_key(name, value, key, accepted):
    assert SCHEMES[name].accepts(value, key) is accepted


def test_a_non_utf8_basic_token_is_refused_not_raised():
    assert SCHEMES["basic"].accepts(base64.b64encode(b"\xff\xfe:pw").decode(), "pw") is False


@pytest.mark.parametrize(
    ("name", "challenge"),
    [("bearer", 'Bearer realm="mockserver"'), ("basic", 'Basic realm="mockserver"'),
     ("digest", 'Digest realm="mockserver"'), ("header", None), ("query", None), ("oauth", None), ("oidc", None)],
)  # fmt: skip
def test_challenge_is_for_http_schemes(name, challenge):
    assert SCHEMES[name].challenge() == challenge


def test_satisfied_by_any_alternative_with_every_scheme_of_it():
    key, bearer, query = SCHEMES["header"], SCHEMES["bearer"], SCHEMES["query"]
    requirements = [[key, query], [bearer]]  # (X-Key and ?key) or Bearer
    both = {"x-key": "k1"}, {"key": ["k2"]}
    assert security.satisfied(requirements, both[0], both[1], {}, None) == (True, ["k1", "k2"])
    assert security.satisfied(requirements, {"x-key": "k1"}, {}, {}, None) == (False, ["k1"])  # half of one
    assert security.satisfied(requirements, {"authorization": "Bearer t"}, {}, {}, None) == (True, ["t"])
    assert security.satisfied(requirements, {}, {}, {}, None) == (False, [])


def test_with_a_configured_key_every_credential_must_be_it_and_wrong_ones_are_still_reported():
    requirements = [[SCHEMES["header"]], [SCHEMES["bearer"]]]
    ok, seen = security.satisfied(requirements, {"x-key": "wrong", "authorization": "Bearer right"}, {}, {}, "right")
    assert (ok, seen) == (True, ["wrong", "right"])  # both are redacted, whichever passed
    assert security.satisfied(requirements, {"x-key": "wrong"}, {}, {}, "right") == (False, ["wrong"])


def test_no_requirement_or_an_empty_one_makes_an_operation_public(tmp_path):
    from mockserver.contract.spec import load_spec

    (tmp_path / "api.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\nsecurity: [{key: []}]\npaths:\n"
        "  /open: {get: {security: [{key: []}, {}], responses: {'200': {description: ok}}}}\n"
        "  /none: {get: {security: [], responses: {'200': {description: ok}}}}\n"
        "  /closed: {get: {responses: {'200': {description: ok}}}}\n"
        "components: {securitySchemes: {key: {type: apiKey, in: header, name: X-Key}}}\n"
    )
    spec = load_spec(tmp_path / "api.yaml")
    public = {op.path: not op.requires_auth for op in spec.operations}
    assert public == {"/open": True, "/none": True, "/closed": False}
    assert security.satisfied([], {}, {}, {}, "key") == (True, [])


@pytest.mark.parametrize(
    ("name", "headers", "url", "carried"),
    [
        ("header", {"x-KEY": "k1"}, "http://h/x", True),  # header names in any case
        ("header", {"X-Key": "k2"}, "http://h/x?key=k1", False),
        ("query", {}, "http://h/x?key=k1", True),
        ("query", {}, "http://h/x?key=a%2Fb", False),
        ("bearer", {"Authorization": "Bearer k1"}, "http://h/x", True),
        ("bearer", {"Authorization": "Basic k1"}, "http://h/x", False),
        ("basic", {"Authorization": "Basic " + token(":k1")}, "http://h/x", True),
        ("digest", {"Authorization": "Digest k1"}, "http://h/x", False),  # never fillable
    ],
)
def test_carries_says_whether_a_sent_request_holds_the_key(name, headers, url, carried):
    assert SCHEMES[name].carries(headers, url, "k1") is carried


def test_carries_finds_an_encoded_query_key_and_a_cookie():
    assert SCHEMES["query"].carries({}, "http://h/x?key=a%2Fb", "a/b")
    assert COOKIE.carries({"Cookie": "sid=c1; other=2"}, "http://h/x", "c1")


def test_curl_option_only_for_basic_with_the_key():
    basic = SCHEMES["basic"]
    assert basic.curl_option("Authorization", security.basic_authorization("pw"), "pw", "$K") == ["-u", '":$K"']
    assert basic.curl_option("authorization", security.basic_authorization("u:pw"), "u:pw", "$K") == ["-u", '"$K"']
    assert basic.curl_option("Authorization", "Basic other", "pw", "$K") is None
    assert basic.curl_option("X-Auth", security.basic_authorization("pw"), "pw", "$K") is None
    assert SCHEMES["bearer"].curl_option("Authorization", "Bearer pw", "pw", "$K") is None


def test_what_a_401_says_to_send_and_challenges():
    requirements = [[SCHEMES["header"], SCHEMES["query"]], [SCHEMES["bearer"]], [SCHEMES["basic"]]]
    assert security.missing(requirements) == "header X-Key and query key or Authorization: Bearer … or " \
                                             "Authorization: Basic …"  # fmt: skip
    assert security.challenges(requirements) == 'Basic realm="mockserver", Bearer realm="mockserver"'
    assert security.challenges([[SCHEMES["header"]]]) is None


def test_names_redacted_by_name():
    assert security.secret_names([SCHEMES["header"], SCHEMES["query"], SCHEMES["bearer"], COOKIE]) == {
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-key", "key", "sid"
    }  # fmt: skip


def test_wire_forms_longest_first():
    forms = security.wire_forms("a b/c")
    assert forms == sorted(forms, key=len, reverse=True)
    assert set(forms) == {"a b/c", "a%20b%2Fc", "a+b%2Fc", token(":a b/c")}


@pytest.mark.parametrize(
    ("schemes", "pointer", "reason"),
    [
        ({"x": {"type": "magic"}}, "/components/securitySchemes/x/type", "unknown security scheme type 'magic'"),
        ({"x": {"type": "apiKey", "in": "body", "name": "k"}}, "/components/securitySchemes/x", "'in' of header"),
        ({"x": {"type": "apiKey", "in": "header"}}, "/components/securitySchemes/x", "string 'name'"),
        ({"x": "bearer"}, "/components/securitySchemes/x", "must be a mapping"),
        ({"x": {"$ref": "#/components/nowhere"}}, "/components/securitySchemes/x/$ref", "points nowhere"),
    ],
)
def test_broken_schemes_name_the_pointer(schemes, pointer, reason):
    from mockserver.contract.documents import DocumentError

    with pytest.raises(DocumentError) as caught:
        security.parse_schemes({"components": {"securitySchemes": schemes}}, "api.yaml")
    assert f"api.yaml: {pointer}: " in str(caught.value) and reason in str(caught.value)


def test_a_referenced_scheme_is_followed():
    document = {"components": {"securitySchemes": {"x": {"$ref": "#/components/x-shared/k"}},
                               "x-shared": {"k": {"type": "apiKey", "in": "query", "name": "token"}}}}  # fmt: skip
    assert security.parse_schemes(document, "api.yaml")["x"] == security.ApiKey("x", "apiKey", "query", "token")


def test_each_kind_of_scheme_is_one_entry_in_the_table():
    document = {"components": {"securitySchemes": {
        "k": {"type": "apiKey", "in": "header", "name": "X-Key"}, "b": {"type": "http", "scheme": "bearer"},
        "u": {"type": "http", "scheme": "Basic"}, "d": {"type": "http", "scheme": "digest"},
        "o": {"type": "oauth2", "flows": {}}, "i": {"type": "openIdConnect", "openIdConnectUrl": "https://x"},
        "t": {"type": "mutualTLS"}}}}  # fmt: skip
    parsed = security.parse_schemes(document, "api.yaml")
    kinds = {name: type(scheme).__name__ for name, scheme in parsed.items()}
    assert kinds == {"k": "ApiKey", "b": "Bearer", "u": "Basic", "d": "Http", "o": "Bearer", "i": "Bearer",
                     "t": "MutualTLS"}  # fmt: skip
    assert set(security.KINDS) == {"apiKey", "http", "oauth2", "openIdConnect", "mutualTLS"}
    assert [name for name, scheme in parsed.items() if scheme.fillable] == ["k", "b", "u", "o", "i"]
    assert [name for name, scheme in parsed.items() if scheme.challenge()] == ["b", "u", "d"]
