"""A multipart/form-data request body read into its (name, text) fields, for validation.py to check as a form."""

from __future__ import annotations

import binascii
import email.parser
import email.policy


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
