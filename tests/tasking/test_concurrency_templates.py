from __future__ import annotations

import threading

import pytest
from django.db import connection

from geopera_web.errors import Conflict
from tasking.models import TaskingTemplate
from tasking.services import template_save
from tests.tasking.conftest import template_data


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_of_one_name_make_one_template_and_one_409(org, admin_user):
    barrier = threading.Barrier(2)
    results: list[str] = []

    def save() -> None:
        try:
            barrier.wait()
            template_save(org=org, actor=admin_user, data=template_data(name="Same name"))
            results.append("created")
        except Conflict:
            results.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=save) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "created"]
    assert TaskingTemplate.objects.filter(org=org, name="Same name").count() == 1
