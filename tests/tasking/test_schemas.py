from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from jsonschema import Draft202012Validator

from geopera_web.errors import InvalidInput
from tasking.models import TaskingProduct
from tasking.schemas import params_from_form, params_validate, product_schema, schema_form_fields


def _iso(dt):
    return dt.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _params(**overrides):
    start = timezone.now() + timedelta(days=1)
    return {
        "displayName": "Farm",
        "acquisitionStart": _iso(start),
        "acquisitionEnd": _iso(start + timedelta(days=30)),
        **overrides,
    }


def _errors(product, params):
    with pytest.raises(InvalidInput) as exc:
        params_validate(product=product, params=params)
    assert exc.value.status == 422
    return {tuple(e["loc"]): e for e in exc.value.extra["errors"]}


@pytest.fixture
def neo():
    return TaskingProduct.objects.get(data_product_id="pleiades-neo-tasking")


@pytest.mark.parametrize(
    "product_id",
    [
        "pleiades-neo-tasking",
        "pleiades-tasking",
        "spot-tasking",
        "worldview-legion-tasking",
        "skysat-tasking",
        "enmap-tasking",
        "terrasar-x-tasking",
    ],
)
def test_every_product_schema_is_valid_draft_2020_12_from_its_sensor(product_id):
    product = TaskingProduct.objects.select_related("sensor").get(data_product_id=product_id)
    schema = product_schema(product)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    props = schema["properties"]
    sensor = product.sensor
    assert [c["const"] for c in props["deliveredAs"]["oneOf"]] == sensor.file_formats
    assert props["incidenceAngle"]["maximum"] == sensor.max_off_nadir
    assert [c["const"] for c in props["acquisitionMode"]["oneOf"]] == sensor.acquisition_modes
    assert {"displayName", "acquisitionStart", "acquisitionEnd"} <= set(schema["required"])
    if sensor.sensor_type == "sar":
        assert "cloudCoverage" not in props  # radar sees through cloud
    else:
        assert props["cloudCoverage"]["maximum"] == sensor.max_cloud_coverage


def test_schema_follows_admin_edits_of_the_sensor(neo):
    neo.sensor.max_cloud_coverage = 12
    neo.sensor.save()
    assert product_schema(neo)["properties"]["cloudCoverage"]["maximum"] == 12


def test_valid_params_get_defaults_filled(neo):
    out = params_validate(product=neo, params=_params())
    assert out["deliveredAs"] == "GeoTIFF"
    assert out["acquisitionMode"] == "mono"
    assert out["cloudCoverage"] == 20


def test_bounds_errors_name_the_field(neo):
    errors = _errors(neo, _params(cloudCoverage=31, incidenceAngle=-1))
    cloud = errors[("body", "params", "cloudCoverage")]
    assert "cloudCoverage" in cloud["msg"] and "30" in cloud["msg"]
    assert cloud["type"] == "less_than_equal"
    assert errors[("body", "params", "incidenceAngle")]["type"] == "greater_than_equal"


def test_enum_error_names_the_field_and_the_options(neo):
    errors = _errors(neo, _params(deliveredAs="NITF", acquisitionMode="quadstereo"))
    assert "deliveredAs must be one of: GeoTIFF, JPEG2000" in errors[("body", "params", "deliveredAs")]["msg"]
    assert "acquisitionMode" in errors[("body", "params", "acquisitionMode")]["msg"]


def test_end_before_start_is_an_error_on_acquisition_end(neo):
    p = _params()
    p["acquisitionStart"], p["acquisitionEnd"] = p["acquisitionEnd"], p["acquisitionStart"]
    errors = _errors(neo, p)
    assert (
        errors[("body", "params", "acquisitionEnd")]["msg"]
        == "acquisitionEnd must be after acquisitionStart."
    )


def test_window_shorter_than_sensor_minimum_is_refused():
    legion = TaskingProduct.objects.get(data_product_id="worldview-legion-tasking")
    start = timezone.now() + timedelta(days=1)
    errors = _errors(
        legion, _params(acquisitionEnd=_iso(start + timedelta(days=2)), acquisitionStart=_iso(start))
    )
    assert "at least 7 days" in errors[("body", "params", "acquisitionEnd")]["msg"]


def test_missing_unknown_and_malformed_params_are_named(neo):
    errors = _errors(
        neo, {"acquisitionStart": "tomorrow", "acquisitionEnd": _iso(timezone.now()), "colour": "red"}
    )
    assert errors[("body", "params", "displayName")]["type"] == "missing"
    assert errors[("body", "params", "colour")]["type"] == "extra_forbidden"
    assert "ISO 8601" in errors[("body", "params", "acquisitionStart")]["msg"]


def test_naive_datetime_is_refused(neo):
    errors = _errors(neo, _params(acquisitionStart="2030-01-01T00:00:00"))
    assert errors[("body", "params", "acquisitionStart")]["type"] == "datetime_parsing"


def test_form_fields_come_from_the_schema_and_carry_errors(neo):
    schema = product_schema(neo)
    fields = {
        f.name: f
        for f in schema_form_fields(
            schema,
            {"cloudCoverage": 5},
            [
                {
                    "loc": ["body", "params", "cloudCoverage"],
                    "msg": "cloudCoverage must be at most 30.",
                    "type": "x",
                }
            ],
        )
    }
    assert "geometry" not in fields  # drawn on the map
    assert fields["deliveredAs"].widget == "select"
    assert [v for v, _ in fields["deliveredAs"].options] == ["GeoTIFF", "JPEG2000"]
    assert fields["cloudCoverage"].widget == "number" and fields["cloudCoverage"].maximum == 30
    assert fields["cloudCoverage"].value == 5 and "at most 30" in fields["cloudCoverage"].error
    assert fields["acquisitionStart"].widget == "datetime"
    assert fields["groundControl"].widget == "checkbox"


def test_form_data_is_typed_by_the_schema(neo):
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    data.update(
        {
            "cloudCoverage": "15",
            "acquisitionStart": "2030-01-02T03:04",
            "projection": "7844",
            "displayName": "x",
        }
    )
    params = params_from_form(product_schema(neo), data)
    assert params["cloudCoverage"] == 15 and params["projection"] == 7844
    assert params["acquisitionStart"] == "2030-01-02T03:04:00Z"
    assert params["groundControl"] is False
