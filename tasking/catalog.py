"""The seed sensor catalog: facts per tasking sensor and the tasking product sold on each.

Facts come from the operators' user guides and datasheets named in each entry's `sources`; the
NORAD catalogue numbers were cross-checked against a public, sourced satellite catalogue
(collected 2026-09) where one was found, and are null where not verified. Prices are this
reseller's illustrative price list in credits per km² (100 credits = A$1), not provider list
prices. Staff maintain the live values in the Django admin; `tasking.services.sensor_catalog_seed`
creates what is missing and only overwrites with `update=True`.
"""

from __future__ import annotations

from typing import Any

_OPTICAL_GEOMETRIC = ["primary", "projected", "ortho"]
_OPTICAL_RADIOMETRIC = ["basic", "display", "reflectance"]
_AU_DATUMS = ["WGS84", "GDA2020", "GDA94"]
# EPSG codes: WGS 84, GDA2020 geographic, GDA94 geographic, GDA94 / Australian Albers.
_AU_PROJECTIONS = [4326, 7844, 4283, 3577]
_ALL_FREQUENCIES = ["ONCE", "DAILY", "WEEKLY", "MONTHLY"]

SENSORS: list[dict[str, Any]] = [
    {
        "id": "pleiades-neo",
        "name": "Pléiades Neo",
        "constellation": "Pléiades Neo",
        "operator": "Airbus Defence and Space",
        "sensor_type": "optical",
        "description": "Very high resolution optical: 30 cm panchromatic, 1.2 m multispectral with deep blue "
        "and red edge bands; mono, stereo and tri-stereo.",
        "satellites": [
            {"name": "Pléiades Neo 3", "norad_id": 48268},
            {"name": "Pléiades Neo 4", "norad_id": 49070},
        ],
        "resolutions": ["30cm", "1.2m"],
        "bands": [
            {"name": "Panchromatic", "min_nm": 450, "max_nm": 800},
            {"name": "Deep blue", "min_nm": 400, "max_nm": 450},
            {"name": "Blue", "min_nm": 450, "max_nm": 520},
            {"name": "Green", "min_nm": 530, "max_nm": 590},
            {"name": "Red", "min_nm": 620, "max_nm": 690},
            {"name": "Red edge", "min_nm": 700, "max_nm": 750},
            {"name": "Near infrared", "min_nm": 770, "max_nm": 880},
        ],
        "spectral_bundles": [
            "pansharpened-rgb",
            "pansharpened-rgbn",
            "bundle",
            "panchromatic",
            "multispectral",
        ],
        "acquisition_modes": ["mono", "stereo", "tristereo"],
        "processing_levels": _OPTICAL_GEOMETRIC,
        "radiometric_processing": _OPTICAL_RADIOMETRIC,
        "pixel_codings": ["8bits", "12bits"],
        "projections": _AU_PROJECTIONS,
        "capture_frequencies": _ALL_FREQUENCIES,
        "file_formats": ["GeoTIFF", "JPEG2000"],
        "datums": _AU_DATUMS,
        "feasibility": "automatic",
        "min_cloud_coverage": 0,
        "max_cloud_coverage": 30,
        "min_off_nadir": 0,
        "max_off_nadir": 52,
        "swath_km": 14,
        "revisit_days": 1,
        "min_window_days": 1,
        "sources": "Airbus Pléiades Neo user guide (early release, Oct 2021): 0.3 m pan, 1.2 m MS, 14 km swath, "
        "up to 52° off nadir. NORAD 48268 (Neo 3, launched 2021-04-29) and 49070 (Neo 4, 2021-08-17) "
        "cross-checked with a public satellite catalogue. Neo 5/6 were lost at launch (Vega-C VV22, Dec 2022).",
        "product": {
            "id": "pleiades-neo-tasking",
            "name": "Pléiades Neo tasking (30 cm)",
            "credits_per_km2": 3300,
            "min_area_km2": 100,
            "max_area_km2": 2000,
        },
    },
    {
        "id": "pleiades",
        "name": "Pléiades 1A/1B",
        "constellation": "Pléiades",
        "operator": "Airbus Defence and Space (with CNES)",
        "sensor_type": "optical",
        "description": "High resolution optical: 0.7 m native, delivered resampled to 50 cm pan and 2 m "
        "multispectral; 20 km swath; mono, stereo and tri-stereo.",
        "satellites": [
            {"name": "Pléiades 1A", "norad_id": 38012},
            {"name": "Pléiades 1B", "norad_id": 39019},
        ],
        "resolutions": ["50cm", "2m"],
        "bands": [
            {"name": "Panchromatic", "min_nm": 470, "max_nm": 830},
            {"name": "Blue", "min_nm": 430, "max_nm": 550},
            {"name": "Green", "min_nm": 490, "max_nm": 610},
            {"name": "Red", "min_nm": 600, "max_nm": 720},
            {"name": "Near infrared", "min_nm": 750, "max_nm": 950},
        ],
        "spectral_bundles": [
            "pansharpened-rgb",
            "pansharpened-rgbn",
            "bundle",
            "panchromatic",
            "multispectral",
        ],
        "acquisition_modes": ["mono", "stereo", "tristereo"],
        "processing_levels": _OPTICAL_GEOMETRIC,
        "radiometric_processing": _OPTICAL_RADIOMETRIC,
        "pixel_codings": ["8bits", "12bits"],
        "projections": _AU_PROJECTIONS,
        "capture_frequencies": _ALL_FREQUENCIES,
        "file_formats": ["GeoTIFF", "JPEG2000"],
        "datums": _AU_DATUMS,
        "feasibility": "automatic",
        "min_cloud_coverage": 0,
        "max_cloud_coverage": 30,
        "min_off_nadir": 0,
        "max_off_nadir": 47,
        "swath_km": 20,
        "revisit_days": 1,
        "min_window_days": 1,
        "sources": "Airbus Pléiades imagery user guide (2021): 0.7 m native resampled to 0.5 m, 20 km swath, "
        "±30° standard and up to 47° off nadir. NORAD 38012 (1A) and 39019 (1B) cross-checked with a "
        "public satellite catalogue. Current operational status of 1A/1B not verified here.",
        "product": {
            "id": "pleiades-tasking",
            "name": "Pléiades tasking (50 cm)",
            "credits_per_km2": 2600,
            "min_area_km2": 100,
            "max_area_km2": 3000,
        },
    },
    {
        "id": "spot",
        "name": "SPOT 6/7",
        "constellation": "SPOT",
        "operator": "Airbus Defence and Space",
        "sensor_type": "optical",
        "description": "Wide-area optical: 1.5 m pan (2 m native), 6 m multispectral on a 60 km swath.",
        "satellites": [
            {"name": "SPOT 6", "norad_id": 38755},
            {"name": "SPOT 7", "norad_id": 40053},
        ],
        "resolutions": ["1.5m", "6m"],
        "bands": [
            {"name": "Panchromatic", "min_nm": 450, "max_nm": 745},
            {"name": "Blue", "min_nm": 450, "max_nm": 520},
            {"name": "Green", "min_nm": 530, "max_nm": 590},
            {"name": "Red", "min_nm": 625, "max_nm": 695},
            {"name": "Near infrared", "min_nm": 760, "max_nm": 890},
        ],
        "spectral_bundles": [
            "pansharpened-rgb",
            "pansharpened-rgbn",
            "bundle",
            "panchromatic",
            "multispectral",
        ],
        "acquisition_modes": ["mono", "stereo", "tristereo"],
        "processing_levels": _OPTICAL_GEOMETRIC,
        "radiometric_processing": _OPTICAL_RADIOMETRIC,
        "pixel_codings": ["8bits", "12bits"],
        "projections": _AU_PROJECTIONS,
        "capture_frequencies": _ALL_FREQUENCIES,
        "file_formats": ["GeoTIFF", "JPEG2000"],
        "datums": _AU_DATUMS,
        "feasibility": "automatic",
        "min_cloud_coverage": 0,
        "max_cloud_coverage": 30,
        "min_off_nadir": 0,
        "max_off_nadir": 45,
        "swath_km": 60,
        "revisit_days": 1,
        "min_window_days": 1,
        "sources": "SPOT 6/7 imagery user guide (ESA Earth Online copy): 2 m native resampled to 1.5 m, 60 km "
        "swath, ±30° standard and 45° extended. NORAD 38755 (SPOT 6) and 40053 (SPOT 7) cross-checked "
        "with a public satellite catalogue, which records SPOT 7 as retired on 2023-03-17: tasking is "
        "effectively SPOT 6 only.",
        "product": {
            "id": "spot-tasking",
            "name": "SPOT 6/7 tasking (1.5 m)",
            "credits_per_km2": 900,
            "min_area_km2": 500,
            "max_area_km2": 50000,
        },
    },
    {
        "id": "worldview-legion",
        "name": "WorldView Legion",
        "constellation": "WorldView Legion",
        "operator": "Vantor (formerly Maxar Intelligence)",
        "sensor_type": "optical",
        "description": "30 cm-class optical with 8 multispectral bands, in sun-synchronous and "
        "mid-inclination orbits for up to 15 revisits a day at mid latitudes.",
        "satellites": [
            {"name": "WorldView Legion 1", "norad_id": 59625},
            {"name": "WorldView Legion 2", "norad_id": 59626},
            {"name": "WorldView Legion 3", "norad_id": 60452},
            {"name": "WorldView Legion 4", "norad_id": 60453},
            {"name": "WorldView Legion 5", "norad_id": None},
            {"name": "WorldView Legion 6", "norad_id": None},
        ],
        "resolutions": ["30cm", "50cm", "1.2m"],
        "bands": [
            {"name": "Panchromatic", "min_nm": 450, "max_nm": 800},
            {"name": "Coastal", "min_nm": 400, "max_nm": 450},
            {"name": "Blue", "min_nm": 450, "max_nm": 510},
            {"name": "Green", "min_nm": 510, "max_nm": 580},
            {"name": "Yellow", "min_nm": 585, "max_nm": 625},
            {"name": "Red", "min_nm": 630, "max_nm": 690},
            {"name": "Red edge", "min_nm": 705, "max_nm": 745},
            {"name": "Near infrared 1", "min_nm": 770, "max_nm": 895},
            {"name": "Near infrared 2", "min_nm": 860, "max_nm": 1040},
        ],
        "spectral_bundles": [
            "pansharpened-rgb",
            "pansharpened-rgbn",
            "bundle",
            "panchromatic",
            "multispectral-8",
        ],
        "acquisition_modes": ["mono", "stereo"],
        "processing_levels": _OPTICAL_GEOMETRIC,
        "radiometric_processing": _OPTICAL_RADIOMETRIC,
        "pixel_codings": ["8bits", "11bits"],
        "projections": _AU_PROJECTIONS,
        "capture_frequencies": ["ONCE", "WEEKLY", "MONTHLY"],
        "file_formats": ["GeoTIFF", "NITF"],
        "datums": _AU_DATUMS,
        "feasibility": "manual",
        "min_cloud_coverage": 0,
        "max_cloud_coverage": 40,
        "min_off_nadir": 0,
        "max_off_nadir": 45,
        "swath_km": 10,
        "revisit_days": 0.07,
        "min_window_days": 7,
        "sources": "Vantor WorldView Legion datasheet (Aug 2025): 0.34 m native (30 cm class within 24° of "
        "nadir), ~10 km swath; Maxar/Vantor EO tasking documentation for the 45° tasking limit. NORAD "
        "59625/59626 (Legion 1/2, launched 2024-05-02) and 60452/60453 (Legion 3/4, 2024-08-15) "
        "cross-checked with a public satellite catalogue. Legion 5 and 6 (launched Feb 2025): NORAD ids NOT "
        "verified, left null.",
        "product": {
            "id": "worldview-legion-tasking",
            "name": "WorldView Legion tasking (30 cm)",
            "credits_per_km2": 4200,
            "min_area_km2": 100,
            "max_area_km2": 2000,
        },
    },
    {
        "id": "skysat",
        "name": "SkySat",
        "constellation": "SkySat",
        "operator": "Planet Labs",
        "sensor_type": "optical",
        "description": "Agile small satellites: 50 cm orthorectified, several revisits a day, fast automatic "
        "tasking over small areas; frame-based, 5.7 km swath.",
        "satellites": [
            {"name": "SkySat-C1", "norad_id": 41601},
            {"name": "SkySat-C2", "norad_id": 41773},
            {"name": "SkySat-C3", "norad_id": 41774},
            {"name": "SkySat-C4", "norad_id": 41771},
            {"name": "SkySat-C5", "norad_id": 41772},
            {"name": "SkySat-C6", "norad_id": 42992},
            {"name": "SkySat-C7", "norad_id": 42991},
            {"name": "SkySat-C8", "norad_id": 42990},
            {"name": "SkySat-C9", "norad_id": 42989},
            {"name": "SkySat-C10", "norad_id": 42988},
            {"name": "SkySat-C11", "norad_id": 42987},
        ],
        "resolutions": ["50cm", "1m"],
        "bands": [
            {"name": "Panchromatic", "min_nm": 450, "max_nm": 900},
            {"name": "Blue", "min_nm": 450, "max_nm": 515},
            {"name": "Green", "min_nm": 515, "max_nm": 595},
            {"name": "Red", "min_nm": 605, "max_nm": 695},
            {"name": "Near infrared", "min_nm": 740, "max_nm": 900},
        ],
        "spectral_bundles": ["pansharpened-rgb", "analytic-4band", "panchromatic"],
        "acquisition_modes": ["mono", "stereo"],
        "processing_levels": ["basic", "ortho"],
        "radiometric_processing": ["visual", "analytic", "surface-reflectance"],
        "pixel_codings": ["8bits", "16bits"],
        "projections": [4326, 7844],
        "capture_frequencies": _ALL_FREQUENCIES,
        "file_formats": ["GeoTIFF"],
        "datums": ["WGS84", "GDA2020"],
        "feasibility": "automatic",
        "min_cloud_coverage": 0,
        "max_cloud_coverage": 30,
        "min_off_nadir": 0,
        "max_off_nadir": 30,
        "swath_km": 5.73,
        "revisit_days": 0.15,
        "min_window_days": 1,
        "sources": "Planet SkySat documentation (docs.planet.com/data/imagery/skysat): 50 cm orthorectified, "
        "5.73 km swath, 30° default tasking limit. NORAD ids of SkySat-C1 to C11 cross-checked with a public "
        "satellite catalogue; C12–C19 exist but their ids were not verified here and are omitted. Planet "
        "reported two SkySats decommissioned in 2024 without naming them.",
        "product": {
            "id": "skysat-tasking",
            "name": "SkySat tasking (50 cm)",
            "credits_per_km2": 1500,
            "min_area_km2": 25,
            "max_area_km2": 500,
        },
    },
    {
        "id": "enmap",
        "name": "EnMAP HSI",
        "constellation": "EnMAP",
        "operator": "DLR (German Aerospace Center)",
        "sensor_type": "hyperspectral",
        "description": "Hyperspectral imager: about 224 contiguous bands from 420 to 2450 nm at 30 m, 30 km "
        "swath; for minerals, vegetation stress and water quality.",
        "satellites": [{"name": "EnMAP", "norad_id": 52159}],
        "resolutions": ["30m"],
        "bands": [
            {"name": "VNIR (91 bands, ~6.5 nm)", "min_nm": 420, "max_nm": 1000},
            {"name": "SWIR (133 bands, ~10 nm)", "min_nm": 900, "max_nm": 2450},
        ],
        "spectral_bundles": ["full-vnir-swir", "vnir-only", "swir-only"],
        "acquisition_modes": ["mono"],
        "processing_levels": ["L1B", "L1C", "L2A"],
        "radiometric_processing": ["radiance", "reflectance"],
        "pixel_codings": ["16bits"],
        "projections": [4326, 7844, 4283],
        "capture_frequencies": ["ONCE", "MONTHLY"],
        "file_formats": ["GeoTIFF", "ENVI", "JPEG2000"],
        "datums": ["WGS84"],
        "feasibility": "manual",
        "min_cloud_coverage": 0,
        "max_cloud_coverage": 30,
        "min_off_nadir": 0,
        "max_off_nadir": 30,
        "swath_km": 30,
        "revisit_days": 4,
        "min_window_days": 14,
        "sources": "DLR EnMAP mission pages and eoPortal: 30 m GSD, 30 km swath, VNIR 420–1000 nm and SWIR "
        "900–2450 nm (~224 bands after merging), ±30° across-track pointing, 4-day revisit. NORAD 52159 "
        "(launched 2022-04-01) taken from the task brief; not re-verified against CelesTrak here. "
        "EnMAP is a science mission: commercial tasking through this reseller is illustrative.",
        "product": {
            "id": "enmap-tasking",
            "name": "EnMAP hyperspectral tasking (30 m)",
            "credits_per_km2": 150,
            "min_area_km2": 900,
            "max_area_km2": 10000,
        },
    },
    {
        "id": "terrasar-x",
        "name": "TerraSAR-X / TanDEM-X",
        "constellation": "TerraSAR-X",
        "operator": "Airbus Defence and Space (with DLR)",
        "sensor_type": "sar",
        "description": "X-band radar, day and night and through cloud: 25 cm staring spotlight, 1 m spotlight, "
        "3 m stripmap.",
        "satellites": [
            {"name": "TerraSAR-X", "norad_id": 31698},
            {"name": "TanDEM-X", "norad_id": 36605},
        ],
        "resolutions": ["25cm", "1m", "3m"],
        "bands": [{"name": "X-band", "frequency_ghz": 9.65}],
        "spectral_bundles": ["HH", "VV", "HH/VV", "HH/HV", "VV/VH"],
        "acquisition_modes": ["mono", "stereo"],
        "processing_levels": ["SSC", "MGD", "GEC", "EEC"],
        "radiometric_processing": ["spatially-enhanced", "radiometrically-enhanced"],
        "pixel_codings": ["16bits", "32bits"],
        "projections": [4326, 7844, 3577],
        "capture_frequencies": ["ONCE", "WEEKLY", "MONTHLY"],
        "file_formats": ["GeoTIFF", "COSAR"],
        "datums": ["WGS84", "GDA2020"],
        "feasibility": "manual",
        "min_cloud_coverage": 0,
        # Radar sees through cloud: any cloud limit is accepted (and ignored by the order form).
        "max_cloud_coverage": 100,
        "min_off_nadir": 20,
        "max_off_nadir": 45,
        "swath_km": 30,
        "revisit_days": 2.5,
        "min_window_days": 7,
        "sources": "DLR TerraSAR-X SAR description and eoPortal: X-band 9.65 GHz, stripmap 30 km swath at full "
        "performance between 20° and 45° incidence (reachable 15–60°), staring spotlight ~0.25 m. Product "
        "types SSC/MGD/GEC/EEC from the TerraSAR-X product guide. NORAD 31698 (TerraSAR-X) and 36605 "
        "(TanDEM-X) cross-checked with a public satellite catalogue. For this radar the template's "
        "'nadir angle' is the incidence angle.",
        "product": {
            "id": "terrasar-x-tasking",
            "name": "TerraSAR-X radar tasking",
            "credits_per_km2": 1800,
            "min_area_km2": 100,
            "max_area_km2": 1500,
        },
    },
]
