"""Request bodies read for validation.py: a multipart/form-data body into its (name, text) fields, an XML body
checked for well-formedness."""

from __future__ import annotations

import binascii
import email.parser
import email.policy
from xml.parsers import expat


def form_fields(body: bytes, content_type: str) -> list[tuple[str, str]] | None:
    """The (name, text) pairs of a multipart/form-data body; None when it cannot be read as one."""
    if "boundary=" not in content_type.lower():
        return None
    if body.strip().startswith(b"--") and body.strip().endswith(b"--") and body.count(b"--") == 2:
        return []  # only the closing delimiter: a form of no fields (RFC 7578 allows it; email's parser does not)
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    try:
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    except (ValueError, TypeError, binascii.Error):
        return None
    if not message.is_multipart():
        return None
    pairs = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        pairs.append((name, data.decode("utf-8", "replace")))
    return pairs


def xml_mistake(body: bytes) -> str | None:
    """Why an XML body is not well-formed, or None; a document type declaration is refused (no entity can expand)."""
    parser = expat.ParserCreate()

    def refuse(*_: object) -> None:
        raise ValueError("document type declarations are not accepted")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(body, True)
    except (expat.ExpatError, ValueError) as exc:
        return str(exc)
    return None
