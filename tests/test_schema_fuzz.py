"""A schema-driven run (schemathesis) over every route the app's OpenAPI publishes: whatever
parameters the schema allows, never a 5xx (but admission's and the timeout's 503) or a traceback."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from conftest import Server


def test_no_route_answers_5xx_or_a_traceback():
    running = Server("--timeout", "5", "--workers", "2")
    try:
        schema = schemathesis.openapi.from_url(running.url + "/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 8, [op.label for op in operations]
        failures = []
        for operation in operations:
            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(case=operation.as_strategy())
            def run(case):
                response = case.call(base_url=running.url, timeout=30)
                text = response.content.decode("utf-8", "replace")  # pictures come as PNG too
                heavy = response.status_code == 503 and ("busy" in text or "did not finish" in text)
                if (response.status_code >= 500 and not heavy) or "Traceback" in text:
                    failures.append((operation.label, response.status_code, case.path_parameters,
                                     case.query, text[:200]))

            run()
        assert not failures, failures[:5]
    finally:
        running.stop()
