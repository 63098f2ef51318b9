"""A card hold and a COMMIT that fails, against the real PostgreSQL: the hold is voided only when
the server says the transaction aborted — never when the COMMIT landed and only its answer was lost
(the Charge row exists: voiding its hold would lose the money).

The connection is cut for real: a TCP proxy between Django and PostgreSQL forwards everything
until the client sends COMMIT, then either lets the COMMIT through and drops the server's answer
(it landed), or swallows it and leaves the server's side open (the transaction stays in progress
until its process is ended). A backend terminated with pg_terminate_backend before the COMMIT,
and a deferred constraint refused at COMMIT, are the aborted cases."""

from __future__ import annotations

import contextlib
import copy
import logging
import socket
import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from django.db import IntegrityError, OperationalError, connection, connections, transaction

from geopera_web.billing.gateways import TestGateway
from geopera_web.billing.models import Charge
from geopera_web.billing.services import charge_authorize, charge_capture
from geopera_web.db.postgis import base as backend
from tests.factories import make_org

pytestmark = pytest.mark.django_db(transaction=True)


class CommitCutter:
    """A TCP proxy to PostgreSQL that cuts the first connection whose client sends COMMIT.

    "after": the COMMIT reaches the server, its answer is dropped and the client's socket closed.
    "before": the COMMIT is swallowed, the client's socket closed, the server's side left open.
    With `down_after_cut`, no new connection is accepted once the cut is made."""

    def __init__(self, host: str, port: int, *, mode: str, down_after_cut: bool = False) -> None:
        self.target, self.mode, self.down_after_cut = (host, port), mode, down_after_cut
        self.armed = True
        self.cut = threading.Event()
        self.sockets: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down_after_cut and self.cut.is_set():
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        server = socket.create_connection(self.target)
        self.sockets += [client, server]
        muted, answered = threading.Event(), threading.Event()

        def pump() -> None:  # server -> client
            while data := _recv(server):
                if muted.is_set():
                    answered.set()  # the server answered the COMMIT: it landed; drop the answer
                    continue
                _send(client, data)

        threading.Thread(target=pump, daemon=True).start()
        while data := _recv(client):
            if self.armed and b"COMMIT" in data:
                self.armed = False
                muted.set()
                if self.mode == "after":
                    server.sendall(data)
                    assert answered.wait(10), "the server never answered the COMMIT"
                self.cut.set()
                _shut(client)  # the client sees its connection lost mid-COMMIT
                return
            _send(server, data)
        _shut(server)

    def close(self) -> None:
        _shut(self.listener)
        for s in self.sockets:
            _shut(s)


def _recv(s: socket.socket) -> bytes:
    try:
        return s.recv(65536)
    except OSError:
        return b""


def _send(s: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):  # the other side is gone: its reader sees it
        s.sendall(data)


def _shut(s: socket.socket) -> None:
    """Shut down (which wakes a thread blocked reading it, and tells the peer) and close."""
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    s.close()


@pytest.fixture
def cut_commit(transactional_db) -> Iterator:
    """Point the default connection at a CommitCutter; restore it afterwards."""
    conn = connections["default"]
    saved = copy.deepcopy(conn.settings_dict)
    proxies: list[CommitCutter] = []

    def use(**kw) -> CommitCutter:
        proxy = CommitCutter(saved["HOST"] or "127.0.0.1", int(saved["PORT"] or 5432), **kw)
        proxies.append(proxy)
        conn.close()
        conn.settings_dict.update(HOST="127.0.0.1", PORT=str(proxy.port))
        # Plain text, so the proxy sees the COMMIT go by; a connect timeout as production sets one
        # (the outcome's own connection must not trip over it).
        conn.settings_dict["OPTIONS"] = {
            **saved["OPTIONS"],
            "sslmode": "disable",
            "gssencmode": "disable",
            "connect_timeout": 10,
        }
        return proxy

    yield use
    conn.close()
    conn.settings_dict.clear()
    conn.settings_dict.update(saved)
    for proxy in proxies:
        proxy.close()


def _card_org():
    org = make_org(name=f"Card Org {uuid.uuid4().hex[:6]}", billing_mode="card")
    org.payment_method = f"pm_card_visa_{uuid.uuid4().hex[:8]}"
    org.save(update_fields=["payment_method"])
    return org


def _hold_then_commit(org, reference: str, exc=OperationalError) -> str:
    with pytest.raises(exc), transaction.atomic():
        charge = charge_authorize(org=org, credits=500, reference=reference)
        gateway_ref = charge.gateway_ref
    return gateway_ref


def test_a_commit_that_landed_but_lost_its_answer_keeps_the_hold(cut_commit):
    org = _card_org()
    proxy = cut_commit(mode="after")
    ref = _hold_then_commit(org, "test:commit-landed")
    assert proxy.cut.is_set()
    charge = Charge.objects.get(reference="test:commit-landed")  # committed
    assert charge.gateway_ref == ref
    assert TestGateway.hold(ref)["state"] == "held"  # not voided: it can still be captured
    assert TestGateway.live_holds(org.payment_method) == 1


def test_a_lost_commit_whose_outcome_cannot_be_read_keeps_the_hold_and_says_so(cut_commit, caplog):
    org = _card_org()
    cut_commit(mode="after", down_after_cut=True)  # and the database is unreachable afterwards
    with caplog.at_level(logging.ERROR, logger="geopera_web.db.hooks"):
        ref = _hold_then_commit(org, "test:commit-unknown")
    assert TestGateway.hold(ref)["state"] == "held"
    assert f"Not undoing card hold {ref}" in caplog.text and "unknown" in caplog.text


def test_a_swallowed_commit_is_settled_by_ending_its_backend_and_the_hold_is_voided(cut_commit, monkeypatch):
    # The server never got the COMMIT and has not noticed its client is gone: the transaction
    # stays in progress until its process is ended, which aborts it.
    monkeypatch.setattr(backend, "OUTCOME_WAIT_SECONDS", 0.3)
    org = _card_org()
    cut_commit(mode="before")
    ref = _hold_then_commit(org, "test:commit-swallowed")
    assert not Charge.objects.filter(reference="test:commit-swallowed").exists()
    assert TestGateway.hold(ref)["state"] == "voided"
    assert TestGateway.live_holds(org.payment_method) == 0


def test_a_backend_killed_before_the_commit_voids_the_hold():
    org = _card_org()
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    with pytest.raises(OperationalError), transaction.atomic():
        charge = charge_authorize(org=org, credits=500, reference="test:killed")
        ref = charge.gateway_ref
        with psycopg.connect(**params, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    assert not Charge.objects.filter(reference="test:killed").exists()
    assert TestGateway.hold(ref)["state"] == "voided"


def test_a_commit_refused_by_a_deferred_constraint_voids_the_hold():
    org = _card_org()
    with pytest.raises(IntegrityError), transaction.atomic():
        charge = charge_authorize(org=org, credits=500, reference="test:refused")
        ref = charge.gateway_ref
        # A deferred foreign key to nothing: PostgreSQL refuses it at COMMIT.
        Charge.objects.filter(pk=charge.pk).update(org_id=uuid.uuid4())
    assert not Charge.objects.filter(reference="test:refused").exists()
    assert TestGateway.hold(ref)["state"] == "voided"


def test_a_capture_whose_commit_landed_but_lost_its_answer_is_still_sent(cut_commit):
    """The capture is sent to the gateway only after the commit that records it (Django drops its
    commit callbacks when COMMIT fails): had the COMMIT landed, the hold would never be captured
    while the Charge row says it was — the money never taken."""
    org = _card_org()
    charge = charge_authorize(org=org, credits=500, reference="test:capture-landed")  # committed
    cut_commit(mode="after")
    with pytest.raises(OperationalError):
        charge_capture(charge_id=charge.pk, credits=400)
    assert Charge.objects.get(pk=charge.pk).status == Charge.Status.CAPTURED
    hold = TestGateway.hold(charge.gateway_ref)
    assert (hold["state"], hold["captured"]) == ("captured", 400)


def test_a_capture_whose_commit_never_arrived_is_not_sent(cut_commit, monkeypatch):
    monkeypatch.setattr(backend, "OUTCOME_WAIT_SECONDS", 0.3)
    org = _card_org()
    charge = charge_authorize(org=org, credits=500, reference="test:capture-swallowed")
    cut_commit(mode="before")
    with pytest.raises(OperationalError):
        charge_capture(charge_id=charge.pk, credits=400)
    assert Charge.objects.get(pk=charge.pk).status == Charge.Status.AUTHORIZED
    assert TestGateway.hold(charge.gateway_ref)["state"] == "held"  # still capturable, by a retry


class Boom(Exception):
    pass


def test_a_commit_failure_nobody_rolled_back_does_not_taint_a_later_rollback():
    """Only the callbacks of the transaction whose COMMIT failed are in doubt: a later transaction
    that rolls back for certain still voids its hold."""
    org = _card_org()
    first = charge_authorize(org=org, credits=100, reference="test:first")
    connection.set_autocommit(False)
    try:
        Charge.objects.filter(pk=first.pk).update(org_id=uuid.uuid4())  # refused at COMMIT
        with pytest.raises(IntegrityError):
            connection.commit()
    finally:
        connection.set_autocommit(True)
    with pytest.raises(Boom), transaction.atomic():
        ref = charge_authorize(org=org, credits=500, reference="test:later").gateway_ref
        raise Boom
    assert TestGateway.hold(ref)["state"] == "voided"
