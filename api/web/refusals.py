"""The engine's refusals in the page's language, for every staff page (one table, not one per view).

The engine's messages stay English (the REST API returns them as they are); a page shows each message a
user can meet in its own language: exact messages from `EXACT`, a few that mean something else at one
field from `AT_FIELD`, messages carrying values (ids, names, numbers) by the patterns of `PATTERNS`.
A message none of them knows is shown as the engine wrote it.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext

from .filters import label

EXACT = {
    # cases.open_case and the party (engine/parties.py, engine/catalogue.py, engine/definitions.py)
    "not in the enforcement catalogue": lazy_gettext("Choose the enforcement matter."),
    "not deployed": lazy_gettext("The procedure of this matter is not deployed; ask the procedure designers."),
    "must be 'person' or 'organization'": lazy_gettext("Choose whether the party is an organisation or a natural person."),
    "the party's name is required (text)": lazy_gettext("Enter the name of the party."),
    "not a valid 18-character unified social credit code": lazy_gettext("Enter a valid 18-character unified social credit code."),
    "not a valid 18-character citizen ID number": lazy_gettext("Enter a valid 18-character citizen ID number."),
    "must be a list of integers": lazy_gettext("Choose the officers from the list."),
    "at least 2 certified officers are required (行政处罚法第四十二条)":
        lazy_gettext("Choose at least two officers holding enforcement certificates (Administrative Punishment Law Art. 42)."),
    # complaints (engine/publicity/complaints.py)
    "one of not_filed, closed": lazy_gettext("Choose the outcome."),
    "required: the complaint names no matter": lazy_gettext("Choose the enforcement matter."),
    "a complaint about enforcement conduct is handled by supervision, not by a case":
        lazy_gettext("A complaint about enforcement conduct is handled by supervision, not by an enforcement case."),
    # supervision matters (engine/supervision/matters.py)
    "the id of the supervised enforcement agency (an integer)": lazy_gettext("Choose the supervised enforcement agency."),
    "unknown agency": lazy_gettext("Choose the supervised enforcement agency."),
    "must be an enforcement agency": lazy_gettext("The supervised agency must be an enforcement agency."),
    "what the matter is about: text of 1 to 2000 characters": lazy_gettext("Say what the matter is about (1 to 2000 characters)."),
    "an integer case id, or leave it out": lazy_gettext("Enter the number of a case of the supervised agency, or leave it empty."),
    "unknown case": lazy_gettext("There is no such enforcement case."),
    "a case of the supervised agency": lazy_gettext("This case is not a case of the supervised agency."),
    "unknown alert": lazy_gettext("There is no such alert."),
    "dismissed": lazy_gettext("The alert was dismissed: a dismissed alert opens no matter."),
    "a non-empty list of user ids, or leave it out (you alone)": lazy_gettext("Choose at least one supervisor."),
    # case review (engine/supervision/review.py, indicators.py)
    "YYYY-MM-DD": lazy_gettext("Enter a date."),
    "no closed case of this subtree in the period": lazy_gettext("No case of these agencies was closed in this period."),
    "must not be after 'to'": lazy_gettext("The period ends before it starts."),
    "an integer from 1 to 1000": lazy_gettext("Enter a whole number from 1 to 1000."),
    "an integer from 0 to 2^31-1": lazy_gettext("Enter a whole number from 0 to 2147483647."),
    "an active legal reviewer or supervisor": lazy_gettext("Choose a legal reviewer or supervisor."),
    "a unique non-empty code": lazy_gettext("Enter a code that no other item has."),
    "a non-empty text": lazy_gettext("This field may not be empty."),
    "an integer from 1 to 100": lazy_gettext("Enter a whole number from 1 to 100."),
    "a non-empty string": lazy_gettext("This field may not be empty."),
    "a non-empty list of {code, text, max_score}": lazy_gettext("Enter at least one item."),
    "an integer": lazy_gettext("Enter a whole number."),
    # evidence capture (engine/evidence/service.py clean_meta)
    "ISO 8601 with a UTC offset, not in the future": lazy_gettext("Enter a time that is not later than now."),
    "a number between -90 and 90": lazy_gettext("Enter a latitude from -90 to 90."),
    "a number between -180 and 180": lazy_gettext("Enter a longitude from -180 to 180."),
    "give both latitude and longitude, or neither": lazy_gettext("Give both latitude and longitude, or neither."),
    "text of at most 120 characters": lazy_gettext("At most 120 characters."),
    # the error pages' details
    "this case belongs to an agency outside your scope": lazy_gettext("This case belongs to an agency outside your scope."),
    "only the case's own agency can work on its tasks": lazy_gettext("Only the case's own agency can work on its tasks."),
    "there is no supervision level above yours": lazy_gettext("There is no supervision level above yours."),
    "only officers and the head of the case's own agency add evidence":
        lazy_gettext("Only officers and the head of the case's own agency add evidence."),
    "only the case's own agency issues its documents": lazy_gettext("Only the case's own agency issues its documents."),
    "documents of a case are issued by its assigned officers, its reviewer or the agency head":
        lazy_gettext("A case's documents are issued by its assigned officers, its legal reviewer or the agency head."),
    "the case has been scored already": lazy_gettext("The case has been scored already; nothing was changed."),
    "only the reviewer assigned to this case may score it": lazy_gettext("Only the reviewer assigned to this case may score it."),
}

AT_FIELD = {  # (field, message): what the message means at that field
    ("agency_id", "an integer"): lazy_gettext("Choose an agency."),
    ("reply", "1 to 2000 characters"): lazy_gettext("Write the reply to the complainant (1 to 2000 characters)."),
}

COMPLAINT_STATES = {"received": lazy_gettext("to verify"), "case_opened": lazy_gettext("case opened"),
                    "not_filed": lazy_gettext("not filed"), "closed": lazy_gettext("concluded")}
TYPE_NAMES = {
    "number": lazy_gettext("a number"), "integer": lazy_gettext("a whole number"), "string": lazy_gettext("text"),
    "boolean": lazy_gettext("yes or no"), "array": lazy_gettext("a list"), "object": lazy_gettext("a group of fields"),
}


def _roles(m: re.Match[str]) -> str:
    return _("This needs one of the roles: %(roles)s.", roles="、".join(label(r.strip()) for r in m.group(1).split(",")))


def _handled(m: re.Match[str]) -> str | None:
    state = COMPLAINT_STATES.get(m.group(1))
    return _("The complaint is handled already (%(status)s); nothing was changed.", status=state) if state else None


PATTERNS: list[tuple[str, Callable[[re.Match[str]], str | None]]] = [
    # cases.open_case
    (r"user (\d+) is not an officer of the case's agency",
     lambda m: _("User %(id)s is not an officer of the case's agency.", id=m.group(1))),
    (r"user (\d+) is not an officer of (.+)",
     lambda m: _("User %(id)s is not an officer of %(agency)s.", id=m.group(1), agency=m.group(2))),
    (r"officer (\S+) holds no valid enforcement certificate",
     lambda m: _("Officer %(username)s holds no valid enforcement certificate.", username=m.group(1))),
    (r"ISO 8601 with a UTC offset, not in the future, e\.g\. .+",
     lambda m: _("Enter a valid date and time that is not later than now.")),
    (r".+ is not competent for (?:matter .+|this matter)", lambda m: _("Your agency is not competent for this matter.")),
    (r"procedure (\S+) is not deployed",
     lambda m: _("The procedure of this matter is not deployed; ask the procedure designers.")),
    (r"(?:procedure \S+ )?version (\d+) is not executable",
     lambda m: _("Version %(version)s of the procedure of this matter cannot be run; ask the procedure designers.", version=m.group(1))),
    (r"this needs one of the roles: (.+)", _roles),
    # the task page (engine/tasks.py)
    (r"task (.+) is (\w+), not ready",
     lambda m: _("The task %(task)s is %(state)s, no longer to do; nothing was changed.", task=m.group(1), state=label(m.group(2)))),
    (r"task (.+) is claimed by another user", lambda m: _("The task %(task)s is claimed by another user.", task=m.group(1))),
    (r"task (.+) is for the role (\w+)",
     lambda m: _("The task %(task)s is for the role %(role)s.", task=m.group(1), role=label(m.group(2)))),
    (r"task (.+) is for the case's assigned officers",
     lambda m: _("The task %(task)s is for the officers assigned to the case.", task=m.group(1))),
    # alerts, evidence, documents
    (r"alert (\d+) (?:was dismissed|is acknowledged) already",
     lambda m: _("Alert %(id)s was handled already; nothing was changed.", id=m.group(1))),
    (r"case (\S+) is archived; nothing can be added", lambda m: _("Case %(number)s is archived; nothing can be added.", number=m.group(1))),
    (r"\d+ bytes is more than the limit of (\d+) bytes",
     lambda m: _("The file is larger than the limit of %(size)s MB.", size=f"{int(m.group(1)) / 1048576:g}")),
    (r"this task's document was issued already as (.+)",
     lambda m: _("This task's document was issued already as %(number)s.", number=m.group(1))),
    # supervision matters
    (r"user (\d+) is not an active supervisor of your bureau",
     lambda m: _("User %(id)s is not an active supervisor of your bureau.", id=m.group(1))),
    (r"already matter (.+)", lambda m: _("Supervision matter %(number)s was opened from it already.", number=m.group(1))),
    (r".+ is outside your supervision scope", lambda m: _("This agency is outside your supervision scope.")),
    # complaints
    (r"(?:the complaint )?is (?:already )?(\w+)", _handled),
    (r"(\d+) to (\d+) characters", lambda m: _("Enter %(low)s to %(high)s characters.", low=m.group(1), high=m.group(2))),
    # case review
    (r"0 to (\d+)", lambda m: _("Enter a whole number from 0 to %(max)s.", max=m.group(1))),
    # JSON Schema (task forms, library documents)
    (r"'[^']+' is a required property", lambda m: _("This field is required.")),
    (r".* is not of type '(\w+)'", lambda m: _("Enter %(type)s.", type=TYPE_NAMES.get(m.group(1), m.group(1)))),
    (r".* is not a 'date'", lambda m: _("Enter a date.")),
    (r".* is not a 'date-time'", lambda m: _("Enter a date and time.")),
    (r".* is less than (?:or equal to )?the minimum of .+", lambda m: _("The value is too small.")),
    (r".* is greater than (?:or equal to )?the maximum of .+", lambda m: _("The value is too large.")),
    (r".* (?:is not one of \[.*\]|is not valid under any of the given schemas)", lambda m: _("Choose one of the options.")),
    (r".* does not match '.*'", lambda m: _("The value is not in the expected form.")),
    (r".* (?:should be non-empty|is too short)", lambda m: _("This field may not be empty.")),
    (r".* is too long", lambda m: _("The text is too long.")),
]


def explain(message: str, field: str | None = None) -> str:
    """An engine message in the page's language where it is known; the engine's text otherwise."""
    known = AT_FIELD.get((field or "", message)) or EXACT.get(message)
    if known is not None:
        return str(known)
    for pattern, say in PATTERNS:
        match = re.fullmatch(pattern, message, re.DOTALL)
        if match:
            said = say(match)
            if said is not None:
                return said
    return message
