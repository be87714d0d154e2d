"""The page routes, by who uses them. Each view opens one unit of work and calls engine services."""
from . import (  # noqa: F401
    alerts,
    auth,
    benchmarks,
    calendar,
    complaints,
    documents,
    evidence,
    legal,
    matters,
    officer,
    public,
    reviews,
    supervision,
    template_editing,
)
