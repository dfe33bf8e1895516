"""The upstream's CORS policy, learnt by the recorder from the answers it sees (serve/cors.py's `Policy` replays it).

Rules: only requests that sent `Origin` teach anything. An origin echoed in `Access-Control-Allow-Origin` (or `*`) is
allowed; one answered without it is refused, unless the answer is a 5xx (a framework's error page often skips the
CORS layer) or the origin was allowed before. A preflight (OPTIONS with `Access-Control-Request-Method`) that passed
gives the methods, whether requested headers are mirrored or a fixed list, and the max age; preflights are folded into
the policy, never written as fixtures. What a previous recording into the same folder learnt is kept.
"""

from __future__ import annotations

from dataclasses import replace

from ...contract import words
from ...contract.verdicts import secret_name
from ..cors import MIRROR, Policy

_ACAO, _ACAC = "access-control-allow-origin", "access-control-allow-credentials"


class CorsLearner:
    def __init__(self, known: Policy | None = None, dropped: frozenset[str] = frozenset()) -> None:
        self.policy = known or Policy()
        self.seen = False  # a cross-origin request seen this run: the policy is written again
        self.dropped = dropped | {"content-type", "vary"}  # volatile ones (Date ...) and what Cors sends itself
        self.preflights = 0

    def observe(self, method: str, request: dict[str, str], status: int, answer: list[tuple[str, str]]) -> bool:
        """Learns from one exchange (`request`: its headers, lower-case names); True when it was a preflight."""
        origin = request.get("origin")
        preflight = method == "OPTIONS" and origin is not None and "access-control-request-method" in request
        if origin is None or status >= 500:
            return preflight
        got = {k: v for k, v in answer if k.startswith("access-control-")}
        echoed = got.get(_ACAO)
        policy = self.policy
        if echoed is None:
            if origin not in policy.allowed:
                policy = replace(policy, refused=policy.refused | {origin},
                                 credentials_refused=got.get(_ACAC, "").lower() == "true")  # fmt: skip
        else:
            allowed = policy.allowed | {origin if echoed in ("*", origin) else echoed}
            policy = replace(policy, allowed=allowed, refused=policy.refused - allowed,
                             any_origin=policy.any_origin or echoed == "*",
                             credentials=got.get(_ACAC, "").lower() == "true")  # fmt: skip
            if got.get("access-control-expose-headers"):
                policy = replace(policy, expose=got["access-control-expose-headers"])
        if preflight and status < 400 and echoed is not None:
            requested = request.get("access-control-request-headers")
            headers = got.get("access-control-allow-headers", "")
            mirrored = not headers or requested is not None and headers.lower() == requested.lower()
            policy = replace(policy, methods=got.get("access-control-allow-methods", policy.methods),
                             headers=MIRROR if mirrored else headers,
                             max_age=got.get("access-control-max-age"))  # fmt: skip
        if preflight:
            self.preflights += 1
            others = tuple((k, v) for k, v in answer if k not in self.dropped and not k.startswith("access-control-")
                           and k != "set-cookie" and not secret_name(k))  # nothing secret is written  # fmt: skip
            policy = replace(policy, others=others)
        self.policy, self.seen = policy, True
        return preflight

    def summary(self) -> str:
        policy = self.policy
        learnt = f"{words.count(len(policy.allowed), 'origin')} allowed, {len(policy.refused)} refused"
        if self.preflights:
            return f"{learnt}, {words.count(self.preflights, 'preflight')}"
        return f"{learnt}, no preflight seen (the proxy answers them itself unless --no-cors)"
