"""Kept for imports from branches in flight: the builders live in `tests.factories`, the shapes in
`tests.geometry`."""

from tests.factories import deliver, make_tasking_order, tasking_product
from tests.geometry import mpoly

__all__ = ["deliver", "make_tasking_order", "mpoly", "tasking_product"]
