"""The official `geopera` SDK and `geopera-cli` (generated from the reference OpenAPI document),
pointed at a live server, work against this API: user tokens through the SDK's Bearer header,
API keys through the CLI's X-API-Key header."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from geopera import AuthenticatedClient
from geopera.api.operations import (
    orders_tasking_sensors,
    orders_tasking_templates_delete,
    orders_tasking_templates_list,
    orders_tasking_templates_save,
)
from geopera.models import TaskingSensorsInput, TemplateDeleteInput, TemplateListInput, TemplateSaveInput

from geopera_web.accounts.services import api_key_create, user_token_create
from tasking.services import sensor_catalog_seed
from tests.factories import make_org, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded_org(live_server):
    sensor_catalog_seed()
    return make_org(name="SDK Org", credits=50_000)


def test_sdk_with_a_user_token_runs_read_and_write_operations(live_server, seeded_org):
    user = make_user(org=seeded_org, role="admin", email="sdk@example.test")
    _, token = user_token_create(user=user, org=seeded_org)
    client = AuthenticatedClient(base_url=live_server.url, token=token, raise_on_unexpected_status=True)

    sensors = orders_tasking_sensors.sync_detailed(client=client, body=TaskingSensorsInput())
    assert sensors.status_code == 200
    ids = {s["id"] for s in json.loads(sensors.content)["sensors"]}
    assert "pleiades-neo" in ids

    body = TemplateSaveInput(
        name="SDK weekly",
        resolution="30cm",
        sensor="pleiades-neo",
        capture_frequency="WEEKLY",
        datum="WGS84",
        file_format="GeoTIFF",
        max_cloud_coverage=10,
        max_nadir_angle=20,
    )
    saved = orders_tasking_templates_save.sync(client=client, body=body)
    template_id = saved.id
    assert saved.name == "SDK weekly"

    listed = orders_tasking_templates_list.sync_detailed(client=client, body=TemplateListInput())
    assert [t["id"] for t in listed.parsed.templates] == [template_id]

    deleted = orders_tasking_templates_delete.sync(
        client=client, body=TemplateDeleteInput(template_id=template_id)
    )
    assert deleted.deleted is True and deleted.template_id == template_id

    # The SDK parses our problem documents and 422s with its own models.
    again = orders_tasking_templates_delete.sync_detailed(
        client=client, body=TemplateDeleteInput(template_id=template_id)
    )
    assert again.status_code == 404 and again.parsed.title == "Not Found"
    bad = orders_tasking_templates_save.sync_detailed(
        client=client,
        body=TemplateSaveInput(
            name="x",
            resolution="1mm",
            sensor="pleiades-neo",
            capture_frequency="WEEKLY",
            datum="WGS84",
            file_format="GeoTIFF",
        ),
    )
    assert bad.status_code == 422
    assert any(err.loc[-1] == "resolution" for err in bad.parsed.detail)


def test_cli_with_an_api_key_lists_sensors_and_templates(live_server, seeded_org, tmp_path):
    _, key = api_key_create(org=seeded_org, name="cli", scopes=["orders:read", "orders:write"])
    env = {
        **os.environ,
        "GEOPERA_API_URL": live_server.url,
        "GEOPERA_API_TOKEN": key,
        "HOME": str(tmp_path),
        "NO_COLOR": "1",
        "TERM": "dumb",
    }
    cli = Path(sys.executable).with_name("geopera")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(cli), *args], env=env, capture_output=True, text=True, timeout=60)

    sensors = run("orders", "tasking", "sensors")
    assert sensors.returncode == 0, sensors.stderr
    assert "pleiades-neo" in sensors.stdout

    saved = run(
        "orders",
        "tasking",
        "templates",
        "save",
        "--name",
        "From the CLI",
        "--resolution",
        "1.5m",
        "--sensor",
        "spot",
        "--capture-frequency",
        "ONCE",
        "--datum",
        "WGS84",
        "--file-format",
        "GeoTIFF",
        "--max-cloud-coverage",
        "20",
        "--max-nadir-angle",
        "25",
    )
    assert saved.returncode == 0, (saved.stdout, saved.stderr)
    listed = run("orders", "tasking", "templates", "list")
    assert listed.returncode == 0, listed.stderr
    assert "From the CLI" in listed.stdout

    refused = run(
        "orders",
        "tasking",
        "templates",
        "save",
        "--name",
        "Bad",
        "--resolution",
        "1mm",
        "--sensor",
        "spot",
        "--capture-frequency",
        "ONCE",
        "--datum",
        "WGS84",
        "--file-format",
        "GeoTIFF",
    )
    assert refused.returncode != 0
    assert "resolution" in (refused.stdout + refused.stderr)
