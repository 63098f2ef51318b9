from __future__ import annotations

from orders.models import DataProduct, OrderType
from tasking.models import Sensor
from tasking.services import sensor_catalog_seed


def test_sensors_lists_the_catalog_with_documented_fields(api_viewer):
    response = api_viewer.post("orders.tasking.sensors", {})
    assert response.status_code == 200
    sensors = {s["id"]: s for s in response.json()["sensors"]}
    assert {"pleiades-neo", "pleiades", "spot", "worldview-legion", "skysat", "enmap", "terrasar-x"} <= set(
        sensors
    )
    neo = sensors["pleiades-neo"]
    assert neo["norad_ids"] == [48268, 49070]
    assert neo["resolutions"][0] == "30cm"
    assert neo["feasibility"] == "automatic"
    assert neo["cloud_coverage"] == {"min": 0, "max": 30}
    assert neo["products"][0]["data_product_id"] == "pleiades-neo-tasking"
    assert neo["credits_per_km2"] == neo["products"][0]["credits_per_km2"] > 0
    assert neo["min_area_km2"] == 100
    assert "Airbus" in neo["sources"]
    for key in ("capture_frequencies", "file_formats", "datums", "bands", "satellites", "off_nadir"):
        assert neo[key], key


def test_seeded_facts_cover_hyperspectral_and_sar(api_viewer):
    sensors = {s["id"]: s for s in api_viewer.post("orders.tasking.sensors", {}).json()["sensors"]}
    assert sensors["enmap"]["type"] == "hyperspectral" and sensors["enmap"]["norad_ids"] == [52159]
    assert sensors["terrasar-x"]["type"] == "sar"
    assert sensors["terrasar-x"]["off_nadir"] == {"min": 20, "max": 45}
    assert sensors["spot"]["norad_ids"] == [38755, 40053]
    assert sensors["pleiades"]["norad_ids"] == [38012, 39019]
    # Unverified ids are null, not invented.
    legion = sensors["worldview-legion"]
    assert len(legion["satellites"]) == 6 and legion["satellites"][-1]["norad_id"] is None
    assert len(legion["norad_ids"]) == 4


def test_inactive_sensor_is_not_listed(api_viewer):
    Sensor.objects.filter(id="spot").update(is_active=False)
    ids = [s["id"] for s in api_viewer.post("orders.tasking.sensors", {}).json()["sensors"]]
    assert "spot" not in ids


def test_tasking_products_are_order_type_tasking_data_products():
    products = DataProduct.objects.filter(tasking__isnull=False)
    assert products.count() == 7
    assert set(products.values_list("order_type", flat=True)) == {OrderType.TASKING}


def test_seed_is_idempotent_and_keeps_admin_edits():
    Sensor.objects.filter(id="spot").update(max_cloud_coverage=15)
    assert sensor_catalog_seed() == {"created": 0, "updated": 0}
    assert Sensor.objects.get(id="spot").max_cloud_coverage == 15
    sensor_catalog_seed(update=True)
    assert Sensor.objects.get(id="spot").max_cloud_coverage == 30


def test_sensors_needs_orders_read_scope(org):
    from tests.conftest import caller_for_key

    caller = caller_for_key(org, scopes=("catalog:read",))
    assert caller.post("orders.tasking.sensors", {}).status_code == 403


def test_seed_sensors_management_command(capsys):
    from django.core.management import call_command

    call_command("seed_sensors")
    assert "0 created" in capsys.readouterr().out
