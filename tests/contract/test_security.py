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
