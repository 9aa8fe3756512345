"""Fuzzing every operation of the OpenAPI document against the running stack (schemathesis):
whatever it sends, no answer is a server error, and every answer matches its documented
schema and content type."""
import subprocess
import sys
from pathlib import Path

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(stack, admin):
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{stack.base_url}/api/v1/openapi.json",
         "--header", f"Authorization: {admin.headers['Authorization']}",
         "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
         # One worker: two threads compiling schemathesis' generated code at once hit a
         # CPython 3.11 race ("SystemError: AST constructor recursion depth mismatch", seen
         # in CI); the same examples, one after another.
         "--max-examples", "5", "--workers", "1", "--request-timeout", "30",
         "--seed", "20261123",
         # Sessions and users are exercised by their own tests; fuzzing them would log the
         # admin out (or deactivate it) half-way. Overlong request lines are refused by
         # gunicorn itself (HTML 414) before the application sees them.
         "--exclude-path-regex", "/auth/|/users/",
         "--phases", "examples,coverage,fuzzing",
         "--suppress-health-check", "all",
         "--no-color"],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
