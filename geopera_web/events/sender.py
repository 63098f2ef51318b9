"""The SSRF-safe HTTP sender of webhooks.

Only http(s); the host is resolved once and every address it resolves to is checked (no loopback,
private, link-local, multicast, reserved or unspecified address unless WEBHOOK_ALLOW_PRIVATE); the
connection goes to the address that was checked (no second lookup an attacker could change), with
the original Host header and, for HTTPS, SNI and certificate checks against the host name.
Redirects are never followed, timeouts are short and at most WEBHOOK_RESPONSE_CAP_BYTES of the
response body are read."""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings


class UnsafeUrl(ValueError):
    pass


@dataclass(frozen=True)
class SendResult:
    ok: bool
    http_status: int | None
    response_ms: int | None
    body_excerpt: str
    error: str


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def url_problem(url: str, *, resolve: bool = False) -> str | None:
    """Why `url` may not receive webhooks (None: it may)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The URL is not valid."
    allow_private = bool(settings.WEBHOOK_ALLOW_PRIVATE)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "The URL must be http(s) with a host."
    if parts.scheme == "http" and not allow_private:
        return "The endpoint must use HTTPS."
    if parts.username or parts.password:
        return "The URL may not carry credentials."
    if not resolve:
        try:
            ip = ipaddress.ip_address(parts.hostname)
        except ValueError:
            return None
        return "The endpoint's address is not public." if _forbidden(ip) and not allow_private else None
    try:
        _resolve(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    except UnsafeUrl as exc:
        return str(exc)
    return None


def _resolve(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"The endpoint's host does not resolve ({exc}).") from exc
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise UnsafeUrl("The endpoint's host does not resolve.")
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for a in addresses:
            if _forbidden(ipaddress.ip_address(a.split("%")[0])):
                raise UnsafeUrl("The endpoint resolves to an address that is not public.")
    return addresses[0]


def send(url: str, *, body: bytes, headers: dict[str, str]) -> SendResult:
    started = time.monotonic()
    problem = url_problem(url)
    if problem:
        return SendResult(False, None, None, "", problem)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        ip = _resolve(parts.hostname or "", port)
    except UnsafeUrl as exc:
        return SendResult(False, None, None, "", str(exc))
    timeout = urllib3.Timeout(
        connect=float(settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS),
        read=float(settings.WEBHOOK_READ_TIMEOUT_SECONDS),
    )
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    pool: urllib3.HTTPConnectionPool
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            ip,
            port,
            timeout=timeout,
            retries=False,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
        )
    else:
        pool = urllib3.HTTPConnectionPool(ip, port, timeout=timeout, retries=False)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": host_header, "Content-Type": "application/json"},
            redirect=False,
            retries=False,
            preload_content=False,
        )
        try:
            raw = response.read(int(settings.WEBHOOK_RESPONSE_CAP_BYTES), decode_content=False)
        finally:
            response.release_conn()
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return SendResult(False, None, elapsed, "", f"{type(exc).__name__}: {exc}"[:500])
    finally:
        pool.close()
    elapsed = int((time.monotonic() - started) * 1000)
    excerpt = raw[:1000].decode("utf-8", errors="replace")
    ok = 200 <= response.status < 300
    return SendResult(ok, response.status, elapsed, excerpt, "" if ok else f"HTTP {response.status}")
