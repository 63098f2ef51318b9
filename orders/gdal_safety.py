"""GDAL, opened safely: process-wide hardening and allow-listed opens of uploaded files.

GDAL picks a driver by sniffing a file's content, and some drivers follow references: an OGR VRT
(`<OGRVRTDataSource>`, whatever the file is called) opens other files on the server and
`/vsicurl/` URLs. So, once per process (`gdal_harden`, from `OrdersConfig.ready`):

- the VRT drivers are skipped (`GDAL_SKIP`) and deregistered if something registered them first;
- GDAL's network file systems are cut off: `CPL_VSIL_CURL_ALLOWED_FILENAME` (an exact name no URL
  can equal) stops `/vsicurl/` and the cloud handlers built on it, and
  `CPL_VSIL_CURL_ALLOWED_EXTENSIONS` (a random per-process token no URL can guess) stops the
  `*_streaming` handlers, which only honour that one — measured on GDAL 3.6.

And every uploaded file is opened by `open_vector` with an explicit driver allow-list
(`GDALOpenEx`'s `allowed_drivers`), then the driver that actually opened it is checked again.
"""

from __future__ import annotations

import ctypes
import secrets
import threading
from collections.abc import Iterable
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException
from django.contrib.gis.gdal.driver import Driver
from django.contrib.gis.gdal.libgdal import lgdal
from django.contrib.gis.gdal.prototypes import ds as capi

from geopera_web.errors import InvalidInput

KML_DRIVERS = ("LIBKML", "KML")
SHAPEFILE_DRIVERS = ("ESRI Shapefile",)
SKIPPED_DRIVERS = ("VRT", "OGR_VRT")

_lock = threading.Lock()
_hardened = False


def _set_config(key: str, value: str) -> None:
    lgdal.CPLSetConfigOption(key.encode(), value.encode())


def _get_config(key: str) -> str | None:
    value = lgdal.CPLGetConfigOption(key.encode(), None)
    return value.decode() if value else None


lgdal.CPLSetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
lgdal.CPLSetConfigOption.restype = None
lgdal.CPLGetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
lgdal.CPLGetConfigOption.restype = ctypes.c_char_p
lgdal.GDALGetDriverByName.argtypes = [ctypes.c_char_p]
lgdal.GDALGetDriverByName.restype = ctypes.c_void_p
lgdal.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
lgdal.GDALDeregisterDriver.restype = None


def gdal_harden() -> None:
    """Skip the VRT drivers and cut GDAL off the network, for this process. Idempotent."""
    global _hardened
    with _lock:
        if _hardened:
            return
        _set_config("GDAL_SKIP", " ".join(SKIPPED_DRIVERS))
        _set_config("CPL_VSIL_CURL_ALLOWED_FILENAME", "/geopera/network-disabled")
        _set_config("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", "." + secrets.token_hex(16))
        _set_config("GDAL_HTTP_MAX_RETRY", "0")
        Driver.ensure_registered()  # GDALAllRegister honours GDAL_SKIP ...
        for name in SKIPPED_DRIVERS:  # ... but drivers registered before it are still there.
            driver = lgdal.GDALGetDriverByName(name.encode())
            if driver:
                lgdal.GDALDeregisterDriver(driver)
        _hardened = True


def gdal_driver_registered(name: str) -> bool:
    return bool(lgdal.GDALGetDriverByName(name.encode()))


def open_vector(path: Path, *, filename: str, drivers: Iterable[str]) -> DataSource:
    """Open `path` read-only with only `drivers` allowed; InvalidInput (naming `filename`, the
    user's name for it) if none of them can read it."""
    gdal_harden()
    allowed = tuple(drivers)
    names = [name.encode() for name in allowed]
    allow_list = (ctypes.c_char_p * (len(names) + 1))(*names, None)
    try:
        ptr = capi.open_ds(
            str(path).encode(), capi.GDAL_OF_READONLY | capi.GDAL_OF_VECTOR, allow_list, None, None
        )
    except GDALException:
        kinds = " or ".join(dict.fromkeys(_label(d) for d in allowed))
        raise InvalidInput(f"{filename} could not be read as {kinds}.") from None
    try:
        source = DataSource(ptr, ds_driver=capi.get_dataset_driver(ptr))
    except GDALException:
        capi.destroy_ds(ptr)
        raise InvalidInput(f"{filename} could not be read.") from None
    if source.driver.name not in allowed:  # belt and braces: never trust the sniffer
        raise InvalidInput(f"{filename} is a {source.driver.name} file, not {' or '.join(allowed)}.")
    return source


def _label(driver: str) -> str:
    return {"LIBKML": "KML", "ESRI Shapefile": "a shapefile"}.get(driver, driver)
