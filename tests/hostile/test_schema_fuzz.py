"""Schemathesis against /openapi.json (issue 11, part 4): requests generated from the API's
own description, sent as anonymous, an inspector, a supervisor and an admin, never answer
5xx. The number of examples is bounded (about a minute in all), so this runs in the quick
suite; the hand-written hostile cases are in the other files of this folder."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.logins import api_login

ROLES = ("anonymous", "inspector", "supervisor", "admin")
EXAMPLES = 25  # per operation, roles drawn at random
# these end the caller's own token; generated calls make them as anonymous only
SPENDS_TOKEN = ("/api/auth/logout", "/api/auth/rotate")


def test_generated_requests_never_answer_5xx(app, client, demo):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"anonymous": {}}
    headers |= {role: api_login(client, role, f"d-fuzz-{role}") for role in ROLES[1:]}
    failures: list[tuple] = []
    statuses: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        roles = ("anonymous",) if operation.path in SPENDS_TOKEN else ROLES

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), role=st.sampled_from(roles))
        def call(case, role):
            r = case.call(headers={**(case.headers or {}), **headers[role]})
            statuses.append(r.status_code)
            if r.status_code >= 500:
                failures.append((case.operation.label, role, r.status_code, r.text[:200]))

        call()
    assert failures == []
    # the generated requests reached the endpoints, not only the door
    assert len(statuses) >= 10 * len(operations)
    assert any(200 <= s < 300 for s in statuses) and 401 in statuses
