"""Kept for imports from branches in flight: the builders live in `tests.factories`, the shapes in
`tests.geometry`."""

from tests.factories import make_priced_capture, make_product, place_body
from tests.geometry import geojson_box

__all__ = ["geojson_box", "make_priced_capture", "make_product", "place_body"]
