"""schemathesis over the served /v1/openapi.json, against a live server, in every phase (examples,
coverage, fuzzing, stateful links), with every check except the two that still have known failures
(see below). A server error, a response that breaks its declared schema, status or content type, or
an undeclared method that answers, fails the suite.

Still open (issue 12): `positive_data_acceptance` and `negative_data_rejection` report about 8
failures: rules the document cannot state (an unknown capture, sensor or event type is a 422; a
cursor token's validity; cross-field rules such as `monthlyBudgetCredits` needing a `workspaceId`;
`orders.tasking.place`'s product-dependent body; an API key needing a scope) and free-form GeoJSON
fields the document does not type yet."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from geopera_web.accounts.services import user_token_create

ST = Path(__file__).resolve().parents[2] / "var/tools/schemathesis/bin/st"
KNOWN_OPEN = ("positive_data_acceptance", "negative_data_rejection")

pytestmark = pytest.mark.django_db(transaction=True)


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
            "run",
            f"{live_server.url}/v1/openapi.json",
            "-H",
            f"Authorization: Bearer {token}",
            "--include-path-regex",
            "^/v1/op/",
            "--checks",
            "all",
            "--exclude-checks",
            ",".join(KNOWN_OPEN),
            "--max-examples",
            "3",
            "--seed",
            "2026",
            "--no-color",
            "--report",
            "junit",
            "--report-junit-path",
            str(junit),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = run.stdout + run.stderr
    assert "Tested:" in out, out[-3000:]
    tested = int(out.split("Tested:", 1)[1].split()[0])
    assert tested >= 40, out[-3000:]  # every operation, not a handful
    assert run.returncode == 0, out[-6000:]
