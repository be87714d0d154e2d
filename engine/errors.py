"""What can go wrong, in domain words.

`api/` maps each class to one HTTP status and an application/problem+json body; the engine never
raises HTTP errors. Every error can carry located details (`Problem`): the field, the file, the
line or the BPMN element it is about.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One located complaint: which field / file / line / BPMN element, and what is wrong."""

    message: str
    field: str | None = None
    file: str | None = None
    line: int | None = None
    element_id: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


class ZhifaError(Exception):
    """Base of every domain error."""

    title = "Error"

    def __init__(self, detail: str, problems: list[Problem] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.problems = list(problems or [])


class InvalidInput(ZhifaError):
    """The request is well formed but its content is not acceptable (maps to 422)."""

    title = "Invalid input"


class DeploymentInvalid(InvalidInput):
    """A BPMN/DMN bundle failed validation; problems name file, line and element."""

    title = "Invalid process definition"


class FormDataInvalid(InvalidInput):
    """Task form data does not match the task's JSON Schema; problems name the fields."""

    title = "Form data does not match the form"


class NotFound(ZhifaError):
    title = "Not found"


class Conflict(ZhifaError):
    """The thing is not in a state that allows this (task not ready, completed meanwhile)."""

    title = "Conflict"


class Forbidden(ZhifaError):
    """The user is known but may not do this (role, agency, assignment, competence)."""

    title = "Forbidden"


class Unauthenticated(ZhifaError):
    title = "Authentication required"


class CalendarUnavailable(ZhifaError):
    """A deadline cannot be computed (no calendar data and provisional calendars are off)."""

    title = "Calendar data unavailable"


class WorkflowError(ZhifaError):
    """The workflow engine could not proceed (script or expression failure at run time)."""

    title = "Workflow error"


class TooLarge(ZhifaError):
    """More bytes than the configured limit allows (maps to 413); nothing was stored."""

    title = "Too large"


class UnsupportedType(ZhifaError):
    """The content type detected from the bytes is not allowed (maps to 415); nothing was stored."""

    title = "Unsupported media type"
