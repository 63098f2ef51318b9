"""Kept for imports from branches in flight: the builders live in `tests.factories` (under the names
in parentheses), the shapes in `tests.geometry`."""

from tests.factories import (
    AUTO_PRODUCT,
    MANUAL_PRODUCT,
    iso,
)
from tests.factories import make_quotation as upload_quote
from tests.factories import make_study as upload_study
from tests.factories import make_tasking_request as place
from tests.factories import study_option as option
from tests.factories import tasking_params as params
from tests.geometry import bowtie, fc, square

__all__ = [
    "AUTO_PRODUCT",
    "MANUAL_PRODUCT",
    "bowtie",
    "fc",
    "iso",
    "option",
    "params",
    "place",
    "square",
    "upload_quote",
    "upload_study",
]
