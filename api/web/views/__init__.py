"""The page routes, by who uses them. Each view opens one unit of work and calls engine services."""
from . import alerts, auth, documents, evidence, legal, officer, supervision  # noqa: F401
from . import benchmarks, template_editing  # noqa: F401,E402
