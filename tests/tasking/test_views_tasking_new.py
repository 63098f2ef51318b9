from __future__ import annotations

from tests.tasking.test_views_templates import admin_client  # noqa: F401  (fixture)


def test_new_request_renders_the_schema_form(admin_client):  # noqa: F811
    html = admin_client.get("/tasking/new/", {"product": "enmap-tasking"}).content.decode()
    assert 'data-product="enmap-tasking"' in html
    assert 'name="deliveredAs"' in html and '<option value="ENVI"' in html
    assert 'name="geometry"' not in html


def test_bare_url_with_template_redirects_keeping_the_query(admin_client, make_template):  # noqa: F811
    template = make_template()
    response = admin_client.get(f"/tasking/new?template={template.id}")
    assert response.status_code == 301 and response["Location"].endswith(
        f"/tasking/new/?template={template.id}"
    )


def test_template_prefills_the_form(admin_client, make_template):  # noqa: F811
    template = make_template(file_format="JPEG2000", max_cloud_coverage=7)
    html = admin_client.get("/tasking/new/", {"template": str(template.id)}).content.decode()
    assert 'data-product="pleiades-neo-tasking"' in html
    assert 'id="param-cloudCoverage" name="cloudCoverage" value="7"' in html
    assert '<option value="JPEG2000" selected>' in html
    assert 'value="Weekly crop check"' in html
    assert "Prefilled from template" in html


def test_product_change_swaps_only_the_config_region(admin_client):  # noqa: F811
    response = admin_client.get(
        "/tasking/new/",
        {"product": "terrasar-x-tasking"},
        headers={"HX-Request": "true", "HX-Target": "tasking-config"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="tasking-config"')
    assert "Polarisation" in html and 'name="cloudCoverage"' not in html


def test_unknown_product_is_404(admin_client):  # noqa: F811
    assert admin_client.get("/tasking/new/", {"product": "nope"}).status_code == 404


def test_params_check_renders_errors_next_to_fields(admin_client):  # noqa: F811
    response = admin_client.post(
        "/tasking/new/check/",
        {
            "data_product_id": "pleiades-neo-tasking",
            "displayName": "x",
            "acquisitionStart": "2030-02-01T00:00",
            "acquisitionEnd": "2030-01-01T00:00",
            "cloudCoverage": "80",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="param-error-acquisitionEnd"' in html and "after acquisitionStart" in html
    assert 'data-testid="param-error-cloudCoverage"' in html
