"""schemathesis against the OpenAPI document the service serves: every operation, every check.

A bounded budget keeps CI fast (MAX_EXAMPLES per operation); the seed is printed on failure,
and `st replay` or the printed curl reproduces a case. The WebSocket room is left out: its 101
hands the connection to another protocol, which an HTTP fuzzer cannot speak; the rooms have
their own tests and the security scenarios abuse them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.harness.identity import Person, TokenIssuer
from tests.conftest import Http

pytestmark = pytest.mark.stack
MAX_EXAMPLES = 30
# The webhooks' token as nginx-rtmp presents it, so the fuzzer reaches past the 403.
CONFIG = """
[parameters]
"query.token" = "{token}"
"""


def test_the_service_honours_the_openapi_document_it_serves(
    http: Http, issuer: TokenIssuer, tmp_path: Path
) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(token=http.webhook_token))
    st = Path(sys.executable).parent / "st"
    run = subprocess.run(
        [st, "--config-file", config, "run", f"{http.base_url}/api/v1/openapi.json",
         "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--no-color",
         "--exclude-operation-id", "streamRoom",
         "--header", f"Authorization: Bearer {issuer.token_for(Person('Fuzz'))}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, f"schemathesis found mismatches:\n{run.stdout[-8000:]}"
