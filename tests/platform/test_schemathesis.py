"""schemathesis over the served /v1/openapi.json, against a live server, in every phase (examples,
coverage, fuzzing, stateful links), with every check: a server error, a response that breaks its
declared schema, status or content type, an undeclared method that answers, a schema-valid request
the server refuses (ST202) or a schema-violating one it accepts (ST201) fails the suite. The stateful
phase must follow the document's explicit links (ids from one response into the next operation).

One rule JSON Schema cannot state for free-form objects (`params`, `featureCollection`, `query`):
no string anywhere in a body, keys included, holds a NUL. Typed strings declare it (`pattern`) and
the document says it in words; generation leaves NUL out of the strings it makes up
(`--generation-allow-x00 false`) so a free-form object does not trip it. test_json_strings.py
covers the NUL rule at every depth."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from geopera_web.accounts.services import user_token_create

ST = Path(__file__).resolve().parents[2] / "var/tools/schemathesis/bin/st"

pytestmark = pytest.mark.django_db(transaction=True)


def _failures_section(out: str) -> str:
    """What failed, without the long curl reproductions."""
    section = out.split("= FAILURES =", 1)[-1].split("= WARNINGS =", 1)[0]
    return "\n".join(line for line in section.splitlines() if "curl -X" not in line)[:15000]


def test_schemathesis_finds_nothing_over_every_operation(live_server, admin_user, org, settings, tmp_path):
    assert ST.exists(), "run `make tools` (make test does) to build var/tools/schemathesis"
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"principal": "100000/min"},
    }
    _, token = user_token_create(user=admin_user, org=org)
    junit = tmp_path / "junit.xml"
    run = subprocess.run(
        [
            str(ST),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            f"{live_server.url}/v1/openapi.json",
            "-H",
            f"Authorization: Bearer {token}",
            "--include-path-regex",
            "^/v1/op/",
            "--checks",
            "all",
            "--max-examples",
            "3",
            "--seed",
            "2026",
            "--generation-allow-x00",
            "false",
            "--no-color",
            "--report",
            "junit",
            "--report-junit-path",
            str(junit),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = run.stdout + run.stderr
    assert "Tested:" in out, out[-3000:]
    tested = int(out.split("Tested:", 1)[1].split()[0])
    assert tested >= 60, out[-3000:]  # every operation, not a handful
    assert run.returncode == 0, _failures_section(out)
    # Nothing failed, and nothing was an error (a check that could not run counts as one too).
    suites = ET.parse(junit).getroot()
    assert sum(int(s.get("failures", 0)) for s in suites.iter("testsuite")) == 0
    assert sum(int(s.get("errors", 0)) for s in suites.iter("testsuite")) == 0
    # The stateful phase ran and followed the document's own links (it followed none before).
    links = re.search(
        r"API Links:\s+(\d+) covered / (\d+) selected / (\d+) total(?: \((\d+) inferred\))?", out
    )
    assert links, out[-3000:]
    covered, total = int(links.group(1)), int(links.group(3))
    inferred = int(links.group(4) or 0)
    assert total - inferred >= 30, links.group(0)  # explicit links are declared
    assert covered >= 1, links.group(0)
