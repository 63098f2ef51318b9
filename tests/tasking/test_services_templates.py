from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from geopera_web.errors import Conflict, NotFound, PermissionDenied
from tasking.models import TaskingTemplate
from tasking.selectors import template_get, template_get_including_deleted
from tasking.services import (
    template_delete,
    template_duplicate,
    template_mark_used,
    template_restore,
    template_save,
)
from tests.tasking.conftest import template_data


def test_get_including_deleted_finds_a_soft_deleted_template(make_template, org):
    template = make_template()
    template_delete(org=org, actor=None, template_id=template.id)
    with pytest.raises(NotFound):
        template_get(org=org, template_id=template.id)
    found = template_get_including_deleted(org=org, template_id=template.id)
    assert found.id == template.id and found.is_deleted


def test_get_including_deleted_is_still_org_scoped(make_template, other_org):
    template = make_template()
    with pytest.raises(NotFound):
        template_get_including_deleted(org=other_org, template_id=template.id)


def test_mark_used_counts_and_stamps(make_template, org):
    template = make_template()
    template_mark_used(org=org, template_id=template.id)
    used = template_mark_used(org=org, template_id=template.id)
    assert used.usage_count == 2 and used.last_used_at is not None


def test_mark_used_of_another_orgs_template_is_404(make_template, other_org):
    template = make_template()
    with pytest.raises(NotFound):
        template_mark_used(org=other_org, template_id=template.id)


def test_restore_undoes_the_delete(make_template, org, admin_user):
    template = make_template()
    template_delete(org=org, actor=admin_user, template_id=template.id)
    restored = template_restore(org=org, actor=admin_user, template_id=template.id)
    assert restored.deleted_at is None
    assert template_get(org=org, template_id=template.id)


def test_restore_refuses_when_the_name_was_taken_meanwhile(make_template, org, admin_user):
    template = make_template()
    template_delete(org=org, actor=admin_user, template_id=template.id)
    make_template()  # same name, now active
    with pytest.raises(Conflict):
        template_restore(org=org, actor=admin_user, template_id=template.id)


def test_duplicate_gets_a_free_name(make_template, org, admin_user):
    template = make_template()
    first = template_duplicate(org=org, actor=admin_user, template_id=template.id)
    second = template_duplicate(org=org, actor=admin_user, template_id=template.id)
    assert first.name == "Weekly crop check (copy)"
    assert second.name == "Weekly crop check (copy 2)"
    assert second.max_cloud_coverage == template.max_cloud_coverage and second.usage_count == 0


def test_viewer_cannot_change_templates(make_template, org, viewer_user):
    template = make_template()
    with pytest.raises(PermissionDenied):
        template_save(org=org, actor=viewer_user, data=template_data(name="x"))
    with pytest.raises(PermissionDenied):
        template_delete(org=org, actor=viewer_user, template_id=template.id)


def test_database_enforces_active_name_uniqueness(make_template, org):
    make_template()
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskingTemplate.objects.create(
            org=org,
            name="WEEKLY crop check",
            sensor_id="spot",
            resolution="1.5m",
            capture_frequency="ONCE",
            datum="WGS84",
            file_format="GeoTIFF",
        )


def test_template_from_order_prefills_from_params(org, admin_user):
    from geopera_web.accounts.selectors import workspace_default
    from orders.models import Order
    from tasking.services import template_from_order_initial

    order = Order.objects.create(
        org=org,
        workspace=workspace_default(org=org),
        order_type="tasking",
        status="pending",
        billing_mode="credit",
        display_name="Farm east",
        data_product_id="pleiades-tasking",
        params={"resolution": "2m", "cloudCoverage": 15, "incidenceAngle": 20, "deliveredAs": "JPEG2000"},
    )
    initial = template_from_order_initial(org=org, order_id=order.id)
    assert initial["sensor"] == "pleiades" and initial["resolution"] == "2m"
    assert initial["max_cloud_coverage"] == 15 and initial["file_format"] == "JPEG2000"
    assert initial["name"] == "Farm east"


def test_provenance_still_names_a_deleted_template(make_template, org, other_org):
    from tasking.selectors import template_provenance

    template = make_template()
    metadata = {"template_id": str(template.id), "template_name": template.name}
    assert template_provenance(org=org, metadata=metadata) == {
        "id": str(template.id),
        "name": "Weekly crop check",
        "deleted": False,
    }
    template_delete(org=org, actor=None, template_id=template.id)
    assert template_provenance(org=org, metadata=metadata)["deleted"] is True
    # Another org's order metadata never resolves this org's template row.
    assert template_provenance(org=other_org, metadata=metadata)["name"] == "Weekly crop check"
    assert template_provenance(org=org, metadata={}) is None
