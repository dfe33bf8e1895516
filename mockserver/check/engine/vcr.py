"""Failing scenarios as VCR cassette text, rendered in the engine so that no recorder leaves it.

Rules: header and query values that look secret are filtered as Schemathesis does, except those named in `keep`
(lower case: where our own key travels, which the cassette output replaces with a placeholder so that a replay can
send it again). On 4.30 (no `ESCAPES_VCR_QUOTES`) the command and each request's URI are written between single
quotes as they are, so their quotes are doubled here.
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .ledger import ESCAPES_VCR_QUOTES

_QUOTED_URI = re.compile(r"^(    uri: ')(.*)'$", re.M)
_START = "http_interactions:"


def header(seed: int | None, command: str) -> str:
    """The cassette's first lines, up to `http_interactions:`; the entries follow it."""
    return _render(None, set(), seed, command)


def entry(recorder: Any, keep: set[str]) -> str:
    """One failing scenario's interactions, to follow `header()` (and any entries before it)."""
    text = _render(recorder, keep, None, "")
    return text[text.index(_START) + len(_START) :]


def _render(recorder: Any, keep: set[str], seed: int | None, command: str) -> str:
    from schemathesis.config import OutputConfig, SanitizationConfig
    from schemathesis.reporting.vcr import VcrWriter

    names: set[str] = set()
    for interaction in recorder.interactions.values() if recorder is not None else ():
        names.update(name.lower() for name in interaction.request.headers)
        names.update(name.lower() for name, _ in parse_qsl(urlsplit(interaction.request.uri).query, True))
        if interaction.response is not None:
            names.update(name.lower() for name in interaction.response.headers)
    defaults = SanitizationConfig()  # Schemathesis' own lists of secret-looking names
    markers = defaults.sensitive_markers
    secret = {name for name in names if name in defaults.keys_to_sanitize or any(m in name for m in markers)}
    # Exact names instead of markers: a marker ("key") would also catch the header that carries our key
    config = OutputConfig()
    config.sanitization = SanitizationConfig(keys_to_sanitize=(*sorted(secret - keep), "\x00"),
                                             sensitive_markers=("\x00",))  # fmt: skip
    buffer = io.StringIO()
    writer = VcrWriter(output=buffer, config=config)
    writer.open(seed=seed, command=command if ESCAPES_VCR_QUOTES else command.replace("'", "''"))
    if recorder is not None:
        writer.write(recorder)
    writer.close()
    if ESCAPES_VCR_QUOTES:
        return buffer.getvalue()
    # 4.30: `--include 'GET /x'` or an OData path `/People('{name}')` made a cassette nothing could read
    return _QUOTED_URI.sub(lambda m: m.group(1) + m.group(2).replace("'", "''") + "'", buffer.getvalue())
