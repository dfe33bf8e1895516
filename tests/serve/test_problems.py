"""The mock's own error documents (RFC 9457): constant, complete, and saying what the contract offers."""

from __future__ import annotations

import pytest

from mockserver.serve.pipeline import problems
from mockserver.serve.pipeline.problems import Problem

ALL = [value for value in vars(problems).values() if isinstance(value, Problem)]


def test_every_problem_has_a_distinct_identity():
    assert len(ALL) >= 10
    assert len({(p.name, p.status) for p in ALL}) == len(ALL)
    assert all(400 <= p.status < 600 and p.title and p.default.endswith(".") for p in ALL)


@pytest.mark.parametrize("problem", ALL, ids=lambda p: f"{p.status}-{p.name}")
def test_a_body_has_the_rfc_9457_members_and_the_extras(problem):
    body = problem.body()
    assert body == {"type": f"https://mockserver.invalid/problems/{problem.name}", "title": problem.title,
                    "status": problem.status, "detail": problem.default}  # fmt: skip
    assert problem.body("why", paths=["/a"]) == {**body, "detail": "why", "paths": ["/a"]}


def test_problems_are_constants():
    with pytest.raises(AttributeError):
        problems.NO_PATH.status = 200  # type: ignore[misc]
