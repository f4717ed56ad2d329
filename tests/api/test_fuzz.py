"""Fuzzing from the API's own OpenAPI document (schemathesis, against the live server): for
every operation, inputs that fit the document and inputs that do not, and none gets a 5xx.

schemathesis's pytest loader for a schema from a fixture (`schemathesis.pytest.from_fixture`)
fails on pytest 9 (it reads `request.node._nodeid`), so the cases are drawn with its
Hypothesis strategies instead (`APIOperation.as_strategy`), which is its documented API for
tests of one's own."""

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

EXAMPLES = 100  # per operation and mode: about 5 s per backend


@pytest.mark.parametrize("mode", list(GenerationMode))
def test_no_input_gets_a_server_error(shared_api, mode):
    schema = schemathesis.openapi.from_url(f"{shared_api}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {"/health", "/signals", "/signals/{id}",
                                              "/candles", "/performance"}
    if mode is GenerationMode.NEGATIVE:  # GET /health takes nothing to get wrong
        operations = [op for op in operations if op.query or op.path_parameters]
    started = time.monotonic()
    for operation in operations:

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def no_server_error(case):
            case.call_and_validate(base_url=shared_api, checks=[not_a_server_error])

        no_server_error()
    print(f"\nfuzz, {mode} inputs: {len(operations) * EXAMPLES} cases in "
          f"{time.monotonic() - started:.1f} s")
