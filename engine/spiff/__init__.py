"""The one adapter around SpiffWorkflow: parsing, running, storing. Nothing else imports it."""
from .runtime import (
    SERIALIZER_VERSION,
    Definition,
    Instance,
    Runtime,
    TaskView,
    TimerView,
    load_definition,
)

__all__ = [
    "SERIALIZER_VERSION",
    "Definition",
    "Instance",
    "Runtime",
    "TaskView",
    "TimerView",
    "load_definition",
]
