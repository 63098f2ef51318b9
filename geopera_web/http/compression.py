"""Compression of API, STAC and NDJSON responses (gzip or brotli, as the client accepts).

Only machine-readable media types are compressed, never HTML: an HTML page of a signed-in user
carries secrets (the CSRF token, names, balances) next to text an attacker can influence, which is
what BREACH needs to read them from the compressed length. The JSON family here carries no such
secret beside reflected input, and it is where the bytes are (a 200-item search page: 373 kB →
≈34 kB gzipped).

Streams (NDJSON) are compressed chunk by chunk and flushed after each chunk, so a client still
sees the first line as soon as the server has it.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable, Iterator

import brotli
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.regex_helper import _lazy_re_compile

COMPRESSIBLE_TYPES = frozenset(
    {
        "application/json",
        "application/geo+json",
        "application/problem+json",
        "application/schema+json",
        "application/x-ndjson",
        "application/geo+json-seq",
        "application/vnd.oai.openapi+json",
    }
)
MIN_LENGTH = 1024  # below this the headers cost more than compression saves
# Brotli's default quality (11) is meant for static files; 5 is close in size and ~20× faster.
BROTLI_QUALITY = 5
GZIP_LEVEL = 6

_q_value = _lazy_re_compile(r"^\s*([^;\s]+)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def accepted_encoding(accept_encoding: str) -> str | None:
    """'br' or 'gzip' (brotli preferred at equal quality), or None; honours q=0 refusals.

    A bare `*` stands for gzip only: brotli is sent to clients that name it. python-requests
    without the brotli package sends `Accept-Encoding: *` and cannot decode br.
    """
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        match = _q_value.match(part)
        if not match:
            continue
        coding = match.group(1).lower()
        try:
            weights[coding] = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
    star = weights.get("*", 0.0)
    best: tuple[float, str] | None = None
    for coding in ("br", "gzip"):
        weight = weights.get(coding, star if coding == "gzip" else 0.0)
        if weight > 0 and (best is None or weight > best[0]):
            best = (weight, coding)
    return best[1] if best else None


def _media_type(response: HttpResponseBase) -> str:
    return (response.get("Content-Type") or "").split(";")[0].strip().lower()


def _compress(data: bytes, coding: str) -> bytes:
    if coding == "br":
        return brotli.compress(data, quality=BROTLI_QUALITY)
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


def _compress_stream(chunks: Iterable[bytes], coding: str) -> Iterator[bytes]:
    if coding == "br":
        compressor = brotli.Compressor(quality=BROTLI_QUALITY)
        for chunk in chunks:
            out = compressor.process(chunk) + compressor.flush()
            if out:
                yield out
        yield compressor.finish()
        return
    import zlib

    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for chunk in chunks:
        out = compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
        if out:
            yield out
    yield compressor.flush()


def _weaken(response: HttpResponseBase) -> None:
    # The compressed bytes are another representation: a strong ETag would claim they are equal.
    etag = response.get("ETag")
    if etag and etag.startswith('"'):
        response["ETag"] = "W/" + etag


class ApiCompressionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if _media_type(response) not in COMPRESSIBLE_TYPES or response.has_header("Content-Encoding"):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        coding = accepted_encoding(request.headers.get("Accept-Encoding", ""))
        if coding is None or request.method == "HEAD":
            return response
        if response.streaming:
            response.streaming_content = _compress_stream(response.streaming_content, coding)  # type: ignore[attr-defined]
            del response["Content-Length"]
        else:
            content = response.content  # type: ignore[attr-defined]
            if len(content) < MIN_LENGTH:
                return response
            compressed = _compress(content, coding)
            if len(compressed) >= len(content):
                return response
            response.content = compressed  # type: ignore[attr-defined]
            response["Content-Length"] = str(len(compressed))
        _weaken(response)
        response["Content-Encoding"] = coding
        return response
