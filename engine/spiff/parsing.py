"""Deployment-time parsing and validation of a bundle of BPMN and DMN files.

`parse_bundle` turns the uploaded files of one procedure into SpiffWorkflow specs, or raises
`DeploymentInvalid` with *every* problem it found, each located by file, line and BPMN element.
It never lets an exception of the XML parser or of SpiffWorkflow escape.

Order of work:
1. each file: size / XML safety (`engine.xmlsafe`), root element (BPMN 2.0 or DMN `definitions`),
   XML Schema (BPMN 2.0 + spiffworkflow extensions; DMN 1.1 / 1.3);
2. our own checks on the XML trees, for what SpiffWorkflow silently ignores or only fails on at
   run time: unsupported constructs, unresolved references, recursive call activities, scripts
   and expressions (allowlist, JUEL, bare ISO-8601 timer literals), forms, templates and the
   statutory properties of timers;
3. SpiffWorkflow's own parse (`SpiffBpmnParser`) of every executable process; its errors are
   located by element id where it gives no line.

A process with `isExecutable="false"` can be stored and viewed but not started: a bundle with no
executable process is returned with `executable=False` and a note, not rejected.
"""
from __future__ import annotations

import ast
import hashlib
import keyword
import logging
import re
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.dmn.parser.DMNParser import DMNParser
from SpiffWorkflow.spiff.parser.process import VALIDATOR as SPIFF_BPMN_VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask

from engine.errors import DeploymentInvalid, Problem
from engine.spiff.due_variables import DUE_FORMATS, DUE_VARIABLE, DUE_VARIABLE_FORMAT
from engine.spiff.scripts import (
    CALLABLE_BUILTINS,
    DEFAULT_FUNCTIONS,
    FORBIDDEN_NAMES,
    check_code,
)
from engine.xmlsafe import DEFAULT_MAX_BYTES, XmlRejected, parse_xml

log = logging.getLogger(__name__)

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

# Properties (spiffworkflow:properties) read by the engine.
FORM_PROPERTY = "formJsonSchemaFilename"
UI_FORM_PROPERTY = "formUiSchemaFilename"
TEMPLATE_PROPERTY = "documentTemplate"
TIMER_KINDS = ("deadline", "warning", "supervision")  # supervision: a supervision matter's deadline (not an enforcement limit)
LIMIT_UNITS = ("working_days", "calendar_days", "months", "years", "hours")
_LIMIT_RE = re.compile(r"^\s*(\d+)\s+([a-z_]+)\s*$")
_SAFE_FILE_REF = re.compile(r"^(?!.*\.\.)(?!/)[A-Za-z0-9_][A-Za-z0-9_.\-/]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

_JUEL = re.compile(r"[$#]\{")
_BARE_ISO = re.compile(
    r"""^(?:
        R\d*/\S*                                                   # repeating interval
      | P(?=[\dT])(?:\d+(?:[.,]\d+)?[YMWD])*(?:T(?:\d+(?:[.,]\d+)?[HMS])+)?   # duration
      | \d{4}-\d{2}-\d{2}(?:[T\s]\S*)?                             # calendar date / date-time
      | \d{4}-?W\d{2}\S*                                           # week date
      | \d{8}T\S*                                                  # basic format date-time
    )$""",
    re.VERBOSE | re.IGNORECASE,
)
_MAX_SCHEMA_PROBLEMS_PER_FILE = 20



# --------------------------------------------------------------------------------------------
# Result types


@dataclass(frozen=True)
class UserTaskInfo:
    bpmn_id: str
    name: str | None
    lane: str | None
    form: str | None
    ui_form: str | None
    document_template: str | None
    process_id: str | None = None
    file: str | None = None


@dataclass(frozen=True)
class TimerInfo:
    bpmn_id: str
    name: str | None
    properties: dict[str, str]
    event_type: str | None = None        # startEvent | intermediateCatchEvent | boundaryEvent
    timer_type: str | None = None        # timeDate | timeDuration | timeCycle
    expression: str | None = None
    attached_to: str | None = None       # boundary timers: the activity they sit on
    cancel_activity: bool | None = None  # boundary timers: interrupting or not
    process_id: str | None = None
    file: str | None = None


@dataclass
class ParsedBundle:
    process_id: str | None
    process_name: str | None
    executable: bool
    spec: Any                              # BpmnProcessSpec of the main process (None if not executable)
    subprocess_specs: dict[str, Any]       # called processes and embedded sub-processes, by id
    files_sha256: dict[str, str]
    user_tasks: list[UserTaskInfo]
    timers: list[TimerInfo]
    processes: list[str]                   # every top-level process id in the bundle, file order
    executable_processes: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# SpiffWorkflow parser adapted to untrusted input


class _BusinessRuleTaskParser(BusinessRuleTaskParser):
    """Also accepts the Camunda dialect `camunda:decisionRef` (what CamundaParser reads)."""

    @staticmethod
    def get_decision_ref(node):
        return BusinessRuleTaskParser.get_decision_ref(node) or node.get(f"{{{CAMUNDA_NS}}}decisionRef")


class _BundleParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES: ClassVar[dict] = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("businessRuleTask"): (_BusinessRuleTaskParser, BusinessRuleTask),
    }

    def _add_data_stores(self, bpmn):
        # Data stores have no implementation here. Spiff refuses any file that declares one, even
        # when only non-executable pools use it; references from executable processes are
        # reported by our own checks instead.
        return None

    def add_dmn_xml(self, node, filename=None):
        # Spiff finds the DMN namespace only when it is the default namespace (else XPathEvalError)
        # and validates against a DMN 1.2 schema that does not compile: bind "dmn" to the root's
        # namespace ourselves; schema validation happened before.
        namespaces = dict(self.namespaces)
        namespaces.update({k: v for k, v in node.nsmap.items() if k})
        namespaces["dmn"] = etree.QName(node).namespace
        dmn_parser = DMNParser(self, node, namespaces, filename=filename)
        self.dmn_parsers[dmn_parser.bpmn_id] = dmn_parser
        self.dmn_parsers_by_name[dmn_parser.get_name()] = dmn_parser


_SCHEMA_LOCK = threading.Lock()
_DMN_VALIDATORS: dict[str, etree.XMLSchema | None] = {}


def _dmn_validator(namespace: str) -> etree.XMLSchema | None:
    """The compiled XML Schema for a DMN version, or None where none is usable (DMN 1.2, 1.4, 1.5)."""
    if namespace not in _DMN_VALIDATORS:
        from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS
        path = SCHEMAS.get(namespace)
        validator = None
        if path is not None and Path(path).exists():
            try:
                validator = BpmnValidator(path).validator
            except Exception:  # noqa: BLE001 - the shipped DMN 1.2 schema does not compile
                validator = None
        _DMN_VALIDATORS[namespace] = validator
    return _DMN_VALIDATORS[namespace]


# --------------------------------------------------------------------------------------------
# Helpers


def _q(local: str) -> str:
    return f"{{{BPMN_NS}}}{local}"


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _is_bpmn(el, *locals_: str) -> bool:
    return isinstance(el.tag, str) and el.tag.startswith(f"{{{BPMN_NS}}}") and _local(el) in locals_


def _label(el) -> str:
    if el is None:
        return "element"
    name = el.get("name")
    kind = _local(el)
    ident = el.get("id")
    if name:
        name = " ".join(name.split())
        return f"{kind} '{name}' ({ident})"
    return f"{kind} {ident}"


def _with_id(el):
    """The element itself or its nearest ancestor that has an id."""
    while el is not None and not el.get("id"):
        el = el.getparent()
    return el


_CONTAINERS = ("process", "subProcess", "transaction", "adHocSubProcess", "definitions", "collaboration")


def _owner(node):
    """The element a problem is about, as a modeller sees it.

    In BPMN that is the flow element (task, event, gateway, sequence flow) or top-level element
    containing `node`, not an inner definition or expression that happens to carry an id.
    Elsewhere (DMN) the nearest element with an id.
    """
    root = node.getroottree().getroot()
    if not (isinstance(root.tag, str) and root.tag.startswith(f"{{{BPMN_NS}}}")):
        return _with_id(node)
    el = node
    while el is not None:
        parent = el.getparent()
        if el.get("id") and (parent is None or _is_bpmn(parent, *_CONTAINERS)):
            return el
        el = parent
    return _with_id(node)


def _spiff_extensions(el, name: str) -> list:
    return el.xpath(f"./bpmn:extensionElements/spiffworkflow:{name}", namespaces=NS)


def _spiff_properties(el) -> tuple[dict[str, str], list]:
    """name -> value of spiffworkflow:property, and the property elements lacking name or value."""
    props: dict[str, str] = {}
    bad = []
    for prop in el.xpath("./bpmn:extensionElements/spiffworkflow:properties//spiffworkflow:property",
                         namespaces=NS):
        if prop.get("name") is None or prop.get("value") is None:
            bad.append(prop)
        else:
            props[prop.get("name")] = prop.get("value")
    return props, bad


def _text(el) -> str | None:
    if el is None:
        return None
    return el.text


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Problems:
    def __init__(self):
        self.items: list[Problem] = []
        self.keys: set[tuple[str | None, str | None]] = set()

    def add(self, message: str, *, file: str | None = None, node=None, line: int | None = None,
            element_id: str | None = None, field: str | None = None) -> None:
        if node is not None:
            if line is None:
                line = node.sourceline
            if element_id is None:
                owner = _owner(node)
                element_id = owner.get("id") if owner is not None else None
        problem = Problem(message=message, field=field, file=file, line=line, element_id=element_id)
        if problem not in self.items:
            self.items.append(problem)
        self.keys.add((file, element_id))

    def __bool__(self):
        return bool(self.items)


@dataclass
class _Doc:
    name: str
    kind: str  # "bpmn" | "dmn"
    tree: Any
    root: Any
    schema_ok: bool = True
    ids: dict[str, Any] = field(default_factory=dict)
    lanes: dict[str, str | None] = field(default_factory=dict)

    def index(self) -> None:
        for el in self.root.iter():
            if isinstance(el.tag, str):
                ident = el.get("id")
                if ident and ident not in self.ids:
                    self.ids[ident] = el
        if self.kind == "bpmn":
            for ref in self.root.iter(_q("flowNodeRef")):
                if ref.text is not None:
                    self.lanes[ref.text.strip()] = ref.getparent().get("name")


@dataclass
class _Proc:
    id: str
    name: str | None
    el: Any
    doc: _Doc
    executable: bool


# --------------------------------------------------------------------------------------------
# The checker


class _BundleChecker:
    def __init__(self, files, known_forms, known_templates, require_forms, functions, max_bytes,
                 require_statutory_timers=False, require_paths_to_end=False):
        self.files = files
        self.known_forms = set(known_forms) if known_forms is not None else None
        self.known_templates = set(known_templates) if known_templates is not None else None
        self.require_forms = require_forms
        self.require_statutory_timers = require_statutory_timers
        self.require_paths_to_end = require_paths_to_end
        self.functions = frozenset(functions) if functions is not None else DEFAULT_FUNCTIONS
        self.max_bytes = max_bytes
        self.problems = _Problems()
        self.notes: list[str] = []
        self.docs: list[_Doc] = []
        self.sha: dict[str, str] = {}
        self.procs: dict[str, _Proc] = {}
        self.proc_order: list[str] = []
        self.decisions: dict[str, tuple[_Doc, Any, bool]] = {}  # id -> (doc, element, usable)
        self.user_tasks: list[UserTaskInfo] = []
        self.timers: list[TimerInfo] = []

    # -- files -----------------------------------------------------------------------------

    def load_files(self) -> None:
        if not isinstance(self.files, dict) or not self.files:
            self.problems.add("The bundle contains no files")
            return
        for name, data in self.files.items():
            name = str(name)
            try:
                self._load_one(name, data)
            except Exception as exc:
                log.exception("unexpected error loading %s", name)
                self.problems.add(f"{name} could not be read: {type(exc).__name__}: {exc}", file=name)

    def _load_one(self, name: str, data) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        if isinstance(data, (bytes, bytearray, memoryview)):
            self.sha[name] = _sha256(bytes(data))
        try:
            tree = parse_xml(data, name, max_bytes=self.max_bytes)
        except XmlRejected as rejected:
            self.problems.items.extend(p for p in rejected.problems if p not in self.problems.items)
            return
        root = tree.getroot()
        root_ns = etree.QName(root).namespace
        root_local = etree.QName(root).localname
        lower = name.lower()
        if lower.endswith((".dmn", ".dmn11.xml")):
            declared = "dmn"
        elif lower.endswith((".bpmn", ".bpmn20.xml", ".bpmn2")):
            declared = "bpmn"
        else:
            declared = "dmn" if root_ns in DMN_NAMESPACES else "bpmn" if root_ns == BPMN_NS else None

        if declared == "bpmn" and not (root_ns == BPMN_NS and root_local == "definitions"):
            self.problems.add(
                f"{name} is not a BPMN 2.0 document: the root element is <{root_local}> in namespace "
                f"{root_ns or '(none)'}, expected <definitions> in {BPMN_NS}",
                file=name, line=root.sourceline)
            return
        if declared == "dmn" and not (root_ns in DMN_NAMESPACES and root_local == "definitions"):
            self.problems.add(
                f"{name} is not a DMN document: the root element is <{root_local}> in namespace "
                f"{root_ns or '(none)'}, expected <definitions> in one of {', '.join(DMN_NAMESPACES)}",
                file=name, line=root.sourceline)
            return
        if declared is None:
            self.problems.add(
                f"{name} is neither BPMN 2.0 nor DMN (root element <{root_local}> in namespace "
                f"{root_ns or '(none)'}); name BPMN files *.bpmn and DMN files *.dmn",
                file=name, line=root.sourceline)
            return
        doc = _Doc(name=name, kind=declared, tree=tree, root=root)
        doc.schema_ok = self._schema_validate(doc)
        doc.index()
        self.docs.append(doc)

    def _schema_validate(self, doc: _Doc) -> bool:
        if doc.kind == "bpmn":
            SPIFF_BPMN_VALIDATOR.preprocess(doc.tree)
            schema = SPIFF_BPMN_VALIDATOR.validator
            label = "BPMN 2.0 schema"
        else:
            schema = _dmn_validator(etree.QName(doc.root).namespace)
            label = f"DMN {DMN_NAMESPACES[etree.QName(doc.root).namespace]} schema"
            if schema is None:
                return True
        with _SCHEMA_LOCK:
            ok = schema.validate(doc.tree)
            errors = list(schema.error_log) if not ok else []
        for err in errors[:_MAX_SCHEMA_PROBLEMS_PER_FILE]:
            self.problems.add(f"{doc.name} does not conform to the {label}: {err.message}",
                              file=doc.name, line=err.line or None)
        if len(errors) > _MAX_SCHEMA_PROBLEMS_PER_FILE:
            self.problems.add(f"{doc.name}: {len(errors) - _MAX_SCHEMA_PROBLEMS_PER_FILE} more schema errors "
                              "not shown", file=doc.name)
        return ok

    # -- indexing ----------------------------------------------------------------------------

    def index_processes(self) -> None:
        for doc in self.docs:
            if doc.kind != "bpmn":
                continue
            for proc in doc.root.findall(_q("process")):
                pid = proc.get("id")
                if not pid:
                    self.problems.add("A process has no id", file=doc.name, node=proc)
                    continue
                value = proc.get("isExecutable")
                if value not in (None, "true", "false"):
                    self.problems.add(
                        f"Process '{pid}': isExecutable must be \"true\" or \"false\", not {value!r}",
                        file=doc.name, node=proc, field="isExecutable")
                executable = value is None or value == "true"
                if pid in self.procs:
                    other = self.procs[pid].doc.name
                    self.problems.add(f"Process id '{pid}' is defined twice (also in {other})",
                                      file=doc.name, node=proc)
                    continue
                self.procs[pid] = _Proc(pid, proc.get("name"), proc, doc, executable)
                self.proc_order.append(pid)

    def normalise_qnames(self) -> None:
        """Rewrite prefixed references (messageRef="ns:id") to the local id when that id exists.

        BPMN references are QNames; several tools (Trisotech, Signavio) write them prefixed.
        SpiffWorkflow only understands bare ids, and its error path for an unresolved reference
        crashes, so resolve what can be resolved and let the reference checks report the rest.
        """
        ref_attrs = ("messageRef", "signalRef", "errorRef", "escalationRef", "attachedToRef",
                     "processRef", "calledElement", "dataStoreRef", "sourceRef", "targetRef", "default")
        for doc in self.docs:
            if doc.kind != "bpmn":
                continue
            for el in doc.root.iter():
                if not isinstance(el.tag, str):
                    continue
                for attr in ref_attrs:
                    value = el.get(attr)
                    if value and ":" in value:
                        prefix, local = value.split(":", 1)
                        if prefix in (el.nsmap or {}) and (local in doc.ids or (
                                attr == "calledElement" and local in self.procs)):
                            el.set(attr, local)
            for ref in doc.root.iter(_q("eventDefinitionRef"), _q("flowNodeRef"), _q("incoming"),
                                     _q("outgoing")):
                value = (ref.text or "").strip()
                if ":" in value:
                    prefix, local = value.split(":", 1)
                    if prefix in (ref.nsmap or {}) and local in doc.ids:
                        ref.text = local

    # -- DMN -----------------------------------------------------------------------------------

    def check_dmn(self) -> None:
        for doc in self.docs:
            if doc.kind != "dmn":
                continue
            ns = etree.QName(doc.root).namespace
            decisions = doc.root.findall(f"{{{ns}}}decision")
            if not decisions:
                self.problems.add(f"DMN file {doc.name} defines no decision", file=doc.name, node=doc.root)
                continue
            usable = True
            if len(decisions) > 1:
                ids = ", ".join(d.get("id") or "?" for d in decisions)
                self.problems.add(
                    f"DMN file {doc.name} defines {len(decisions)} decisions ({ids}); only files with a "
                    "single decision table are supported (decision requirement graphs are not evaluated)",
                    file=doc.name, node=decisions[1])
                usable = False
            for decision in decisions:
                did = decision.get("id")
                if not did:
                    self.problems.add("A decision has no id", file=doc.name, node=decision)
                    continue
                if did in self.decisions:
                    self.problems.add(f"Decision id '{did}' is defined twice (also in "
                                      f"{self.decisions[did][0].name})", file=doc.name, node=decision)
                    continue
                ok = self._check_decision(doc, ns, decision) and usable
                self.decisions[did] = (doc, decision, ok)

    def _check_decision(self, doc: _Doc, ns: str, decision) -> bool:
        def t(local):
            return f"{{{ns}}}{local}"

        tables = decision.findall(t("decisionTable"))
        label = f"decision '{decision.get('name') or decision.get('id')}' ({decision.get('id')})"
        if not tables:
            self.problems.add(f"DMN {label} has no decision table; only decision tables are supported",
                              file=doc.name, node=decision)
            return False
        ok = True
        if len(tables) > 1:
            self.problems.add(f"DMN {label} has {len(tables)} decision tables; only the first would be used",
                              file=doc.name, node=tables[1])
            ok = False
        table = tables[0]
        hit = (table.get("hitPolicy") or "UNIQUE").upper()
        if hit in ("PRIORITY", "OUTPUT ORDER", "RULE ORDER"):
            self.problems.add(f"DMN {label}: hit policy {hit} is not supported (use UNIQUE, FIRST or COLLECT)",
                              file=doc.name, node=table, field="hitPolicy")
            ok = False
        if table.get("aggregation"):
            self.problems.add(f"DMN {label}: COLLECT aggregation {table.get('aggregation')} is not supported "
                              "(the engine returns the list of all matches)",
                              file=doc.name, node=table, field="aggregation")
            ok = False
        inputs = table.findall(t("input"))
        outputs = table.findall(t("output"))
        for inp in inputs:
            expr = inp.find(f"{t('inputExpression')}/{t('text')}")
            if expr is None or not (expr.text or "").strip():
                self.problems.add(f"DMN {label}: input {inp.get('label') or inp.get('id')} has no input expression",
                                  file=doc.name, node=inp)
                ok = False
            else:
                ok &= self._check_expression(doc, expr, expr.text, f"input expression of DMN {label}")
        for out in outputs:
            key = out.get("name") or out.get("label") or ""
            if not key or not all(_IDENTIFIER.match(part) for part in key.split(".")):
                self.problems.add(
                    f"DMN {label}: output {out.get('id')} needs a name that is a variable name "
                    f"(letters, digits, '_', dots for nesting; not starting with '_'), not {key!r}",
                    file=doc.name, node=out)
                ok = False
        for rule in table.findall(t("rule")):
            in_entries = rule.findall(t("inputEntry"))
            out_entries = rule.findall(t("outputEntry"))
            if len(in_entries) != len(inputs) or len(out_entries) != len(outputs):
                self.problems.add(
                    f"DMN {label}: rule {rule.get('id')} has {len(in_entries)} input and {len(out_entries)} "
                    f"output entries; the table has {len(inputs)} inputs and {len(outputs)} outputs",
                    file=doc.name, node=rule)
                ok = False
                continue
            for entry in in_entries:
                text_el = entry.find(t("text"))
                ok &= self._check_input_entry(doc, text_el if text_el is not None else entry,
                                              _text(text_el), label, rule)
            for entry in out_entries:
                text_el = entry.find(t("text"))
                text = _text(text_el)
                if text is not None and text.strip():
                    ok &= self._check_expression(doc, text_el, text, f"output entry of rule {rule.get('id')} "
                                                                     f"in DMN {label}")
        return ok

    def _check_input_entry(self, doc: _Doc, node, text: str | None, label: str, rule) -> bool:
        if text is None or not text.strip() or text.strip() == "-":
            return True
        stripped = text.strip()
        what = f"input entry of rule {rule.get('id')} in DMN {label}"
        if re.match(r"^not\s*\(", stripped):
            self.problems.add(f"{what}: FEEL negation {stripped!r} is not supported; write a Python "
                              "condition with '?' for the input, e.g. ? != \"x\"", file=doc.name, node=node)
            return False
        if re.match(r"^[\[\]\(].*\.\..*[\[\]\)]$", stripped):
            self.problems.add(f"{what}: FEEL range {stripped!r} is not supported; write a Python "
                              "comparison with '?' for the input, e.g. 5 <= ? <= 8", file=doc.name, node=node)
            return False
        # Same rewriting as SpiffWorkflow's DMN engine: '?' outside quotes stands for the input.
        candidate = re.sub(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)', "dmninputexpr", stripped)
        if "dmninputexpr" not in candidate:
            try:
                parsed = ast.parse(candidate, mode="eval").body
            except SyntaxError:
                candidate = f"dmninputexpr {candidate}"
            else:
                if isinstance(parsed, ast.Tuple) and not stripped.startswith("("):
                    self.problems.add(
                        f"{what}: {stripped!r} looks like a FEEL list and would never match; "
                        f"write ? in [{stripped}]", file=doc.name, node=node)
                    return False
        return self._check_expression(doc, node, candidate, what, shown=stripped)

    # -- scripts and expressions ------------------------------------------------------------------

    def _check_expression(self, doc: _Doc, node, text: str | None, what: str, *, mode: str = "eval",
                          shown: str | None = None) -> bool:
        shown = shown if shown is not None else (text or "").strip()
        if text is not None and _JUEL.search(text):
            self.problems.add(f"{what} uses JUEL/EL ({shown!r}), which is not supported; "
                              "rewrite it as a Python expression", file=doc.name, node=node)
            return False
        errors = check_code(text, mode, self.functions)
        if errors:
            kind = "script" if mode == "exec" else "expression"
            self.problems.add(f"{what}: {kind} not allowed: " + "; ".join(errors), file=doc.name, node=node)
            return False
        return True

    # -- BPMN ------------------------------------------------------------------------------------

    def check_bpmn(self) -> None:
        for pid in self.proc_order:
            proc = self.procs[pid]
            if not proc.executable:
                continue
            try:
                self._check_process(proc)
            except Exception as exc:
                log.exception("unexpected error while checking process %s", pid)
                self.problems.add(f"Process '{pid}' could not be checked: {type(exc).__name__}: {exc}",
                                  file=proc.doc.name, node=proc.el)
        for doc in self.docs:
            if doc.kind == "bpmn" and any(p.executable and p.doc is doc for p in self.procs.values()):
                try:
                    self._check_document_level(doc)
                except Exception as exc:
                    log.exception("unexpected error while checking %s", doc.name)
                    self.problems.add(f"{doc.name} could not be checked: {type(exc).__name__}: {exc}",
                                      file=doc.name, line=doc.root.sourceline)
        try:
            self._check_call_graph()
        except Exception as exc:
            log.exception("unexpected error while checking call activities")
            self.problems.add(f"Call activities could not be checked: {type(exc).__name__}: {exc}")

    def _check_document_level(self, doc: _Doc) -> None:
        for el in doc.root.iter(f"{{{SPIFF_NS}}}*"):
            if not any(_is_bpmn(a, "process") for a in el.iterancestors()):
                self._check_spiff_extension(doc, el)
        for prop in doc.root.iter(_q("correlationPropertyRetrievalExpression")):
            for expr in prop:
                if _local(expr) in ("formalExpression", "messagePath"):
                    self._check_expression(doc, expr, expr.text, f"correlation property retrieval expression "
                                                                  f"of {_label(_with_id(prop))}")

    def _check_paths(self, doc: _Doc, scope) -> None:
        """Every flow node of a process or sub-process reaches an end event (boundary events count)."""
        kinds = ("task", "userTask", "scriptTask", "manualTask", "businessRuleTask", "sendTask", "receiveTask",
                 "serviceTask", "callActivity", "subProcess", "transaction", "adHocSubProcess", "startEvent",
                 "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
                 "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway")
        nodes = [c for c in scope if _is_bpmn(c, *kinds) and c.get("id")
                 and not (_is_bpmn(c, "subProcess") and c.get("triggeredByEvent") == "true")]
        ids = {n.get("id"): n for n in nodes}
        nexts: dict[str, set[str]] = {i: set() for i in ids}
        for flow in scope.findall(_q("sequenceFlow")):
            if flow.get("sourceRef") in ids and flow.get("targetRef") in ids:
                nexts[flow.get("sourceRef")].add(flow.get("targetRef"))
        for node in nodes:
            if _is_bpmn(node, "boundaryEvent") and node.get("attachedToRef") in ids:
                nexts[node.get("attachedToRef")].add(node.get("id"))
        reaches = {i for i, n in ids.items() if _is_bpmn(n, "endEvent")}
        changed = True
        while changed:
            before = len(reaches)
            reaches |= {i for i, targets in nexts.items() if targets & reaches}
            changed = len(reaches) != before
        stuck = [n for n in nodes if n.get("id") not in reaches]
        if stuck and any(e.find(_q("terminateEventDefinition")) is not None for e in scope.findall(_q("endEvent"))):
            # A loop that waits for an event (a channel for requests) may run until a terminate end stops it.
            waiting = {n.get("id") for n in stuck if _is_bpmn(n, "intermediateCatchEvent")
                       and n.get("id") in _reachable(nexts, nexts[n.get("id")])}
            stuck = [n for n in stuck if not _reachable(nexts, {n.get("id")}) & waiting]
        for node in stuck:
            if not nexts[node.get("id")]:
                why = "has no outgoing sequence flow and is not an end event"
            else:
                why = "leads only into a loop or dead end from which no end event can be reached"
            self.problems.add(f"{_label(node)} {why}: every path must reach an end event", file=doc.name, node=node)
        for sub in scope:
            if _is_bpmn(sub, "subProcess", "transaction", "adHocSubProcess"):
                self._check_paths(doc, sub)

    def _check_process(self, proc: _Proc) -> None:
        doc = proc.doc
        add = self.problems.add
        if self.require_paths_to_end:
            self._check_paths(doc, proc.el)
        scope_ids = {el.get("id"): el for el in proc.el.iter() if isinstance(el.tag, str) and el.get("id")}
        message_ids = {m.get("id") for m in doc.root.iter(_q("message"))}
        signal_ids = {m.get("id") for m in doc.root.iter(_q("signal"))}
        error_ids = {m.get("id") for m in doc.root.iter(_q("error"))}
        escalation_ids = {m.get("id") for m in doc.root.iter(_q("escalation"))}
        where = f"in process '{proc.id}'"

        for el in proc.el.iter():
            if not isinstance(el.tag, str):
                continue
            if not el.tag.startswith(f"{{{BPMN_NS}}}"):
                if el.tag.startswith(f"{{{SPIFF_NS}}}"):
                    self._check_spiff_extension(doc, el)
                continue
            local = _local(el)

            # constructs SpiffWorkflow ignores or cannot run
            if local == "linkEventDefinition":
                add(f"{_label(el.getparent())} is a link event, which the engine ignores; connect the flow "
                    "directly with a sequence flow", file=doc.name, node=el.getparent())
            elif local == "eventDefinitionRef":
                add(f"{_label(el.getparent())} uses eventDefinitionRef, which is not supported; put the event "
                    "definition inside the event", file=doc.name, node=el.getparent())
            elif local == "compensateEventDefinition":
                add(f"{_label(el.getparent())} is a compensation event, which is not supported",
                    file=doc.name, node=el.getparent())
            elif local in ("serviceTask",):
                add(f"{_label(el)}: service tasks are not supported; use a script task with the injected "
                    "functions or a user task", file=doc.name, node=el)
            elif local in ("complexGateway",):
                add(f"{_label(el)}: complex gateways are not supported", file=doc.name, node=el)
            elif local == "dataStoreReference":
                add(f"{_label(el)}: data stores are not supported in executable processes",
                    file=doc.name, node=el)

            if el.get("isForCompensation") == "true":
                add(f"{_label(el)} is a compensation activity, which is not supported", file=doc.name, node=el)

            if local == "subProcess":
                self._check_subprocess(doc, el)
            elif local == "scriptTask":
                self._check_script_task(doc, el)
            elif local == "sequenceFlow":
                self._check_sequence_flow(doc, el, scope_ids, where)
            elif local in ("exclusiveGateway", "inclusiveGateway"):
                self._check_conditional_gateway(doc, el, proc)
            elif local == "timerEventDefinition":
                self._check_timer(doc, el, proc)
            elif local == "boundaryEvent":
                target = el.get("attachedToRef")
                if not target or target not in scope_ids:
                    add(f"{_label(el)} is attached to '{target}', which is not an activity {where}",
                        file=doc.name, node=el, field="attachedToRef")
            elif local == "callActivity":
                if not el.get("calledElement"):
                    add(f"{_label(el)} names no process to call (calledElement)", file=doc.name, node=el,
                        field="calledElement")
            elif local == "businessRuleTask":
                self._check_business_rule_task(doc, el)
            elif local == "userTask":
                self._check_user_task(doc, el, proc)
            elif local == "multiInstanceLoopCharacteristics":
                self._check_multi_instance(doc, el)
            elif local == "standardLoopCharacteristics":
                cond = el.find(_q("loopCondition"))
                if cond is not None:
                    self._check_expression(doc, cond, cond.text, f"loop condition of {_label(_with_id(el))}")
            elif local == "conditionalEventDefinition":
                cond = el.find(_q("condition"))
                if cond is None or not (cond.text or "").strip():
                    add(f"{_label(el.getparent())}: conditional event without a condition",
                        file=doc.name, node=el.getparent())
                else:
                    self._check_expression(doc, cond, cond.text, f"condition of {_label(el.getparent())}")
            elif local == "adHocSubProcess":
                cond = el.find(_q("completionCondition"))
                if cond is not None:
                    self._check_expression(doc, cond, cond.text, f"completion condition of {_label(el)}")

            # references
            if local in ("messageEventDefinition", "sendTask", "receiveTask"):
                ref = el.get("messageRef")
                if ref is not None and ref not in message_ids:
                    owner = _with_id(el.getparent()) if local == "messageEventDefinition" else el
                    add(f"messageRef {ref} on {_label(owner)} does not resolve to a bpmn:message in "
                        f"{doc.name}", file=doc.name, node=owner, field="messageRef")
            elif local == "signalEventDefinition":
                ref = el.get("signalRef")
                if ref is not None and ref not in signal_ids:
                    add(f"signalRef {ref} on {_label(el.getparent())} does not resolve to a bpmn:signal",
                        file=doc.name, node=el.getparent(), field="signalRef")
            elif local == "errorEventDefinition":
                ref = el.get("errorRef")
                if ref and ref not in error_ids:
                    add(f"errorRef {ref} on {_label(el.getparent())} does not resolve to a bpmn:error",
                        file=doc.name, node=el.getparent(), field="errorRef")
            elif local == "escalationEventDefinition":
                ref = el.get("escalationRef")
                if ref and ref not in escalation_ids:
                    add(f"escalationRef {ref} on {_label(el.getparent())} does not resolve to a "
                        "bpmn:escalation", file=doc.name, node=el.getparent(), field="escalationRef")

            # pre- and post-scripts on any element
            for ext in ("preScript", "postScript"):
                for script in _spiff_extensions(el, ext):
                    if (script.text or "").strip():
                        self._check_expression(doc, script, script.text, f"{ext} of {_label(el)}", mode="exec")

            _, bad_props = _spiff_properties(el)
            for prop in bad_props:
                add(f"{_label(el)}: a spiffworkflow:property needs both a name and a value",
                    file=doc.name, node=prop)

    def _check_spiff_extension(self, doc: _Doc, el) -> None:
        local = etree.QName(el).localname
        owner = _with_id(el)
        if local in ("messagePayload", "payloadExpression") and (el.text or "").strip():
            self._check_expression(doc, el, el.text, f"{local} of {_label(owner)}")
        elif local == "expression" and etree.QName(el.getparent()).localname == "processVariableCorrelation":
            self._check_expression(doc, el, el.text, f"correlation expression of {_label(owner)}")
        elif local in ("messageVariable", "variableName") and (el.text or "").strip():
            if not _IDENTIFIER.match(el.text.strip()):
                self.problems.add(f"{local} of {_label(owner)} must be a variable name not starting with '_', "
                                  f"not {el.text.strip()!r}", file=doc.name, node=el)
        elif local == "serviceTaskOperator":
            pass  # service tasks are rejected as a whole

    def _check_subprocess(self, doc: _Doc, el) -> None:
        add = self.problems.add
        children = [c for c in el if isinstance(c.tag, str) and c.tag.startswith(f"{{{BPMN_NS}}}")
                    and _local(c) not in ("incoming", "outgoing", "documentation", "extensionElements",
                                          "ioSpecification", "property", "dataInputAssociation",
                                          "dataOutputAssociation", "multiInstanceLoopCharacteristics",
                                          "standardLoopCharacteristics")]
        if not children:
            add(f"{_label(el)} is empty (no start event, no content), so it cannot run",
                file=doc.name, node=el)
            return
        starts = el.findall(_q("startEvent"))
        if len(starts) != 1:
            add(f"{_label(el)} needs exactly one start event; found {len(starts)}",
                file=doc.name, node=el)
        if not el.findall(_q("endEvent")):
            add(f"{_label(el)} needs an end event", file=doc.name, node=el)
        if el.get("triggeredByEvent") == "true":
            for start in starts:
                if start.get("isInterrupting", "true") != "false":
                    add(f"Event {_label(el)}: an interrupting start event ({start.get('id')}) is "
                        "not supported (the engine does not interrupt); use a boundary event on a "
                        "wrapping sub-process, or make it non-interrupting",
                        file=doc.name, node=start)

    def _check_script_task(self, doc: _Doc, el) -> None:
        fmt = (el.get("scriptFormat") or "").strip().lower()
        if fmt and "python" not in fmt and fmt not in ("py", "text/x-python"):
            self.problems.add(f"{_label(el)}: script format {el.get('scriptFormat')!r} is not supported; "
                              "scripts are Python", file=doc.name, node=el, field="scriptFormat")
            return
        scripts = el.findall(_q("script"))
        if not scripts or not (scripts[0].text or "").strip():
            self.problems.add(f"{_label(el)} has no script", file=doc.name, node=el)
            return
        self._check_expression(doc, scripts[0], scripts[0].text, f"script of {_label(el)}", mode="exec")

    def _check_sequence_flow(self, doc: _Doc, el, scope_ids: dict, where: str) -> None:
        add = self.problems.add
        for attr in ("sourceRef", "targetRef"):
            ref = el.get(attr)
            if not ref or ref not in scope_ids:
                add(f"{_label(el)}: {attr} '{ref}' is not an element {where}", file=doc.name, node=el, field=attr)
        cond = el.find(_q("conditionExpression"))
        if cond is None:
            return
        source = scope_ids.get(el.get("sourceRef"))
        if source is not None and not _is_bpmn(source, "exclusiveGateway", "inclusiveGateway"):
            add(f"{_label(el)} has a condition but starts at {_label(source)}; the engine only evaluates "
                "conditions on flows leaving an exclusive or inclusive gateway (add a gateway)",
                file=doc.name, node=cond)
            return
        if source is not None and source.get("default") == el.get("id"):
            return  # the default flow's condition is never evaluated
        if not (cond.text or "").strip():
            add(f"{_label(el)}: empty condition", file=doc.name, node=cond)
            return
        self._check_expression(doc, cond, cond.text, f"conditionExpression on flow {el.get('id')}")

    def _check_conditional_gateway(self, doc: _Doc, el, proc: _Proc) -> None:
        outgoing = [f for f in proc.el.iter(_q("sequenceFlow")) if f.get("sourceRef") == el.get("id")]
        if len(outgoing) < 2:
            return
        default = el.get("default")
        for flow in outgoing:
            if flow.get("id") != default and flow.find(_q("conditionExpression")) is None:
                self.problems.add(
                    f"{_label(flow)} leaves {_label(el)} without a condition and is not the gateway's "
                    "default flow", file=doc.name, node=flow)

    def _check_multi_instance(self, doc: _Doc, el) -> None:
        owner = _with_id(el.getparent())
        cardinality = el.find(_q("loopCardinality"))
        data_input = el.find(_q("loopDataInputRef"))
        if cardinality is None and data_input is None:
            self.problems.add(f"Multi-instance {_label(owner)} needs loopCardinality or an input "
                              "collection (loopDataInputRef)", file=doc.name, node=owner)
        if cardinality is not None:
            self._check_expression(doc, cardinality, cardinality.text, f"loopCardinality of {_label(owner)}")
        cond = el.find(_q("completionCondition"))
        if cond is not None:
            self._check_expression(doc, cond, cond.text, f"completionCondition of {_label(owner)}")

    def _check_business_rule_task(self, doc: _Doc, el) -> None:
        spiff_ref = BusinessRuleTaskParser.get_decision_ref(el)
        camunda_ref = el.get(f"{{{CAMUNDA_NS}}}decisionRef")
        ref = spiff_ref or camunda_ref
        if not ref:
            self.problems.add(f"{_label(el)} names no decision (spiffworkflow:calledDecisionId)",
                              file=doc.name, node=el)
            return
        if not spiff_ref:
            self.notes.append(f"{_label(el)}: camunda:decisionRef '{ref}' is used as the decision id")
        if ref not in self.decisions:
            self.problems.add(f"{_label(el)} calls decision '{ref}', which is not in this bundle "
                              f"(decisions: {', '.join(sorted(self.decisions)) or 'none'})",
                              file=doc.name, node=el)
        elif not self.decisions[ref][2]:
            self.problems.add(f"{_label(el)} calls decision '{ref}', whose DMN file "
                              f"{self.decisions[ref][0].name} is invalid (see the problems reported for it)",
                              file=doc.name, node=el)

    def _lane_of(self, doc: _Doc, el) -> str | None:
        """The lane SpiffWorkflow gives a task: an enclosing sub-process's lane wins."""
        chain = []
        parent = el.getparent()
        while parent is not None and not _is_bpmn(parent, "process"):
            if _is_bpmn(parent, "subProcess", "transaction", "adHocSubProcess"):
                chain.append(parent)
            parent = parent.getparent()
        for node in list(reversed(chain)) + [el]:
            lane = doc.lanes.get(node.get("id"))
            if lane is not None:
                return lane
        return None

    def _check_user_task(self, doc: _Doc, el, proc: _Proc) -> None:
        props, _ = _spiff_properties(el)
        form = props.get(FORM_PROPERTY) or None
        ui_form = props.get(UI_FORM_PROPERTY) or None
        template = props.get(TEMPLATE_PROPERTY) or None
        label = _label(el)
        add = self.problems.add
        if self.require_forms and not form:
            add(f"User task {label} has no form: set the spiffworkflow property {FORM_PROPERTY}",
                file=doc.name, node=el, field=FORM_PROPERTY)
        for prop, value, known, kind in (
                (FORM_PROPERTY, form, self.known_forms, "form"),
                (UI_FORM_PROPERTY, ui_form, self.known_forms, "UI schema"),
                (TEMPLATE_PROPERTY, template, self.known_templates, "document template")):
            if value is None:
                continue
            if not _SAFE_FILE_REF.match(value):
                add(f"User task {label}: {prop} {value!r} is not a plain relative file name",
                    file=doc.name, node=el, field=prop)
            elif known is not None and value not in known:
                add(f"User task {label} refers to {kind} '{value}', which does not exist",
                    file=doc.name, node=el, field=prop)
        self.user_tasks.append(UserTaskInfo(
            bpmn_id=el.get("id"), name=el.get("name"), lane=self._lane_of(doc, el), form=form,
            ui_form=ui_form, document_template=template, process_id=proc.id, file=doc.name))

    # -- timers ----------------------------------------------------------------------------------

    def _check_timer(self, doc: _Doc, definition, proc: _Proc) -> None:
        event = definition.getparent()
        add = self.problems.add
        label = _label(event)
        exprs = [c for c in definition if _is_bpmn(c, "timeDate", "timeDuration", "timeCycle")]
        timer_type = expression = None
        if not exprs:
            add(f"Timer on {label} has no timeDate, timeDuration or timeCycle", file=doc.name, node=event)
        else:
            expr_el = exprs[0]
            timer_type = _local(expr_el)
            expression = (expr_el.text or "").strip()
            self._check_timer_expression(doc, expr_el, timer_type, expression, label)

        props, _ = _spiff_properties(event)
        self._check_timer_properties(doc, event, props, label)
        self._check_due_variable(doc, event, props, label, timer_type)
        if self.require_statutory_timers:
            missing = [name for name in ("legal_basis", "limit") if not (props.get(name) or "").strip()]
            for name in missing:
                add(f"Timer {label} has no {name}: every time limit names its statutory basis (legal_basis) and "
                    "its limit (limit, e.g. \"15 working_days\") as spiffworkflow properties",
                    file=doc.name, node=event, field=name)
        self.timers.append(TimerInfo(
            bpmn_id=event.get("id"), name=event.get("name"), properties=dict(props),
            event_type=_local(event), timer_type=timer_type, expression=expression,
            attached_to=event.get("attachedToRef") if _local(event) == "boundaryEvent" else None,
            cancel_activity=(event.get("cancelActivity", "true").lower() == "true")
            if _local(event) == "boundaryEvent" else None,
            process_id=proc.id, file=doc.name))

    def _check_timer_expression(self, doc: _Doc, node, timer_type: str, expression: str, label: str) -> None:
        add = self.problems.add
        what = f"Timer {timer_type} on {label}"
        if not expression:
            add(f"{what} is empty", file=doc.name, node=node)
            return
        if _JUEL.search(expression):
            add(f"{what} uses JUEL/EL ({expression!r}), which is not supported; write a Python expression "
                "such as a quoted ISO-8601 string or deadline(...)", file=doc.name, node=node)
            return
        if _BARE_ISO.match(expression):
            add(f"{what}: {expression!r} is not a valid expression: timer values are Python expressions, so "
                f"an ISO-8601 literal must be quoted (\"{expression}\") or computed (e.g. deadline(...))",
                file=doc.name, node=node)
            return
        if not self._check_expression(doc, node, expression, what):
            return
        body = ast.parse(expression, mode="eval").body
        if isinstance(body, ast.Constant):
            if not isinstance(body.value, str):
                add(f"{what}: {expression!r} must evaluate to an ISO-8601 string", file=doc.name, node=node)
                return
            message = _literal_timer_problem(timer_type, body.value)
            if message:
                add(f"{what}: {message}", file=doc.name, node=node)

    def _check_timer_properties(self, doc: _Doc, event, props: dict[str, str], label: str) -> None:
        add = self.problems.add
        kind = props.get("kind")
        limit = props.get("limit")
        if kind is not None and kind not in TIMER_KINDS:
            add(f"Timer {label}: kind must be one of {', '.join(TIMER_KINDS)}, not {kind!r}",
                file=doc.name, node=event, field="kind")
        if kind is not None and not (props.get("legal_basis") or "").strip():
            add(f"Timer {label} has kind {kind!r} but no legal_basis: name the statutory provision",
                file=doc.name, node=event, field="legal_basis")
        if limit is not None:
            m = _LIMIT_RE.match(limit)
            if not m or m.group(2) not in LIMIT_UNITS or int(m.group(1)) <= 0:
                add(f"Timer {label}: limit must be \"<positive int> <unit>\" with unit one of "
                    f"{', '.join(LIMIT_UNITS)}, not {limit!r}", file=doc.name, node=event, field="limit")
        clock = props.get("clock_start")
        if clock is not None and not _IDENTIFIER.match(clock):
            add(f"Timer {label}: clock_start must be a task-data variable name, not {clock!r}",
                file=doc.name, node=event, field="clock_start")

    def _check_due_variable(self, doc: _Doc, event, props: dict[str, str], label: str, timer_type: str | None) -> None:
        """`due_variable` / `due_variable_format` (engine/spiff/due_variables.py): the task-data variable the
        engine keeps equal to the timer's due, and how it is written."""
        add = self.problems.add
        name, fmt = props.get(DUE_VARIABLE), props.get(DUE_VARIABLE_FORMAT)
        if name is None:
            if fmt is not None:
                add(f"Timer {label}: {DUE_VARIABLE_FORMAT} without {DUE_VARIABLE}: name the variable that holds the "
                    "due date", file=doc.name, node=event, field=DUE_VARIABLE)
            return
        reserved = self.functions | CALLABLE_BUILTINS | FORBIDDEN_NAMES | {"True", "False", "None"}
        if not _IDENTIFIER.match(name) or keyword.iskeyword(name) or name in reserved:
            add(f"Timer {label}: {DUE_VARIABLE} must be a task-data variable name (letters, digits, _; not a "
                f"keyword or a function scripts call), not {name!r}", file=doc.name, node=event, field=DUE_VARIABLE)
        elif name == props.get("clock_start"):
            add(f"Timer {label}: {DUE_VARIABLE} {name!r} is the timer's clock_start: the due would overwrite the "
                "day the period counts from", file=doc.name, node=event, field=DUE_VARIABLE)
        if fmt not in DUE_FORMATS:
            add(f"Timer {label}: {DUE_VARIABLE_FORMAT} must be one of {', '.join(DUE_FORMATS)} (date: YYYY-MM-DD in "
                f"China time; instant: ISO 8601 with +08:00), not {fmt!r}", file=doc.name, node=event,
                field=DUE_VARIABLE_FORMAT)
        if timer_type == "timeCycle":
            add(f"Timer {label}: a cycle timer has no single due date for {DUE_VARIABLE}", file=doc.name, node=event,
                field=DUE_VARIABLE)

    # -- call activities ---------------------------------------------------------------------

    def _check_call_graph(self) -> None:
        edges: dict[str, list[tuple[str, Any]]] = {}
        for pid in self.proc_order:
            proc = self.procs[pid]
            if not proc.executable:
                continue
            for call in proc.el.iter(_q("callActivity")):
                called = call.get("calledElement")
                if not called:
                    continue
                target = self.procs.get(called)
                if target is None:
                    self.problems.add(
                        f"{_label(call)} calls '{called}', which is not a process in this bundle "
                        f"(processes: {', '.join(self.proc_order) or 'none'})",
                        file=proc.doc.name, node=call, field="calledElement")
                    continue
                if not target.executable:
                    self.problems.add(
                        f"{_label(call)} calls process '{called}', which is not executable "
                        "(isExecutable=\"false\")", file=proc.doc.name, node=call, field="calledElement")
                    continue
                edges.setdefault(pid, []).append((called, call))

        state: dict[str, int] = {}  # 1 = on the stack, 2 = done
        reported: set[int] = set()

        def visit(pid: str, path: list[str]) -> None:
            state[pid] = 1
            for called, call in edges.get(pid, []):
                if state.get(called) == 1:
                    if id(call) not in reported:
                        reported.add(id(call))
                        stack = path + [pid]
                        cycle = stack[stack.index(called):] + [called]
                        self.problems.add(
                            f"Recursive call activity: {' -> '.join(cycle)} ({_label(call)} calls "
                            f"'{called}', which is already running above it); this would never return",
                            file=self.procs[pid].doc.name, node=call, field="calledElement")
                elif state.get(called) is None:
                    visit(called, path + [pid])
            state[pid] = 2

        for pid in self.proc_order:
            if pid in edges and state.get(pid) is None:
                visit(pid, [])

    # -- SpiffWorkflow ---------------------------------------------------------------------------

    def spiff_problem(self, exc: BaseException, *, default_file: str | None, fallback=None) -> None:
        """Turn any exception of SpiffWorkflow's parser into a located problem.

        `fallback` is the element being worked on (a process, a document root): its line and id
        locate errors that carry neither (TypeError, IndexError, ... from Spiff's error paths).
        """
        if isinstance(exc, ValidationException):
            message = str(exc.args[0]) if exc.args else str(exc)
            element_id = exc.id or None
            file = exc.file_name or None
            line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number > 0 else None
        else:
            message = f"The BPMN parser failed ({type(exc).__name__}: {exc})"
            element_id = None
            file = None
            line = None
        message = " ".join(message.split()).rstrip(". ")
        candidates = [d for d in (self._doc_by_name(file), self._doc_by_name(default_file)) if d is not None]
        candidates += [d for d in self.docs if d not in candidates]
        doc = candidates[0] if candidates and file else self._doc_by_name(default_file)
        if element_id and line is None:
            for candidate in candidates:
                el = candidate.ids.get(element_id)
                if el is not None:
                    doc, line = candidate, el.sourceline
                    break
        if element_id is None and line is None and fallback is not None:
            line = fallback.sourceline
            element_id = fallback.get("id") or None
        file = doc.name if doc else (file or default_file)
        if element_id and (file, element_id) in self.problems.keys:
            return  # our own check already reported this element, more clearly
        self.problems.add(message, file=file, line=line, element_id=element_id)

    def _doc_by_name(self, name: str | None) -> _Doc | None:
        for doc in self.docs:
            if doc.name == name:
                return doc
        return None


def _reachable(nexts: dict[str, set[str]], start: set[str]) -> set[str]:
    seen, stack = set(start), list(start)
    while stack:
        for target in nexts.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _literal_timer_problem(timer_type: str, value: str) -> str | None:
    """Check a quoted ISO-8601 timer value the way SpiffWorkflow will read it at run time."""
    try:
        if timer_type == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        elif timer_type == "timeDate":
            parsed = TimerEventDefinition.parse_time_or_duration(value)
            if not isinstance(parsed, datetime):
                return f"{value!r} is a duration, but timeDate needs a date-time"
            if "W" not in value.upper() and datetime.fromisoformat(value).tzinfo is None:
                return f"{value!r} has no UTC offset; write e.g. {value}+08:00"
        else:
            cycles, _start, _duration = TimerEventDefinition.parse_iso_recurring_interval(value)
            if cycles < 0:
                return (f"{value!r} repeats without end; give a repetition count (R3/...) because every "
                        "firing grows the case history")
    except Exception as exc:  # noqa: BLE001 - never let a parser or check error escape
        return f"{value!r} is not a valid ISO-8601 {timer_type[4:].lower()}: {exc}"
    return None


# --------------------------------------------------------------------------------------------
# Public entry point


def parse_bundle(
    files: dict[str, bytes],
    *,
    known_forms: set[str] | None = None,
    known_templates: set[str] | None = None,
    require_forms: bool = False,
    require_statutory_timers: bool = False,
    require_paths_to_end: bool = False,
    functions: Iterable[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedBundle:
    """Validate and parse one procedure's BPMN and DMN files (`{filename: bytes}`, in file order).

    - `known_forms` / `known_templates`: when given, every form / UI schema / document template a
      user task names must be among them.
    - `require_forms`: every user task of an executable process must name a form
      (`formJsonSchemaFilename`). Our own deployment passes True; third-party diagrams do not.
    - `require_statutory_timers`: every timer carries `legal_basis` and `limit` properties.
    - `require_paths_to_end`: every flow node can reach an end event of its (sub-)process.
      Our own deployment passes True for both.
    - `functions`: names of the functions injected into scripts (default `DEFAULT_FUNCTIONS`).
    - `max_bytes`: size limit per file.

    Returns a `ParsedBundle`; raises `DeploymentInvalid` listing every problem found.
    """
    checker = _BundleChecker(files, known_forms, known_templates, require_forms, functions, max_bytes,
                             require_statutory_timers, require_paths_to_end)
    checker.load_files()
    checker.index_processes()
    checker.normalise_qnames()
    try:
        checker.check_dmn()
    except Exception as exc:
        log.exception("unexpected error while checking DMN")
        checker.problems.add(f"DMN files could not be checked: {type(exc).__name__}: {exc}")
    checker.check_bpmn()

    bpmn_docs = [d for d in checker.docs if d.kind == "bpmn"]
    if not checker.problems and not checker.procs:
        if bpmn_docs:
            checker.problems.add(f"{bpmn_docs[0].name} defines no process", file=bpmn_docs[0].name,
                                 line=bpmn_docs[0].root.sourceline)
        else:
            checker.problems.add("The bundle contains no BPMN process", field="files")

    executable = [pid for pid in checker.proc_order if checker.procs[pid].executable]
    called = set()
    for pid in executable:
        for call in checker.procs[pid].el.iter(_q("callActivity")):
            if call.get("calledElement") and call.get("calledElement") != pid:
                called.add(call.get("calledElement"))
    roots = [pid for pid in executable if pid not in called]
    main = roots[0] if roots else (executable[0] if executable else None)
    if len(roots) > 1:
        checker.notes.append(
            f"Several executable processes are not called by another ({', '.join(roots)}); "
            f"'{main}' (first in file order) is the main process")
    for pid in checker.proc_order:
        proc = checker.procs[pid]
        if not proc.executable:
            checker.notes.append(
                f"Process '{pid}' in {proc.doc.name} is isExecutable=\"false\": it can be stored and viewed "
                "but not started")

    spec = None
    subprocess_specs: dict[str, Any] = {}
    if executable:
        spec, subprocess_specs = _spiff_parse(checker, executable, main)

    if checker.problems:
        problems = checker.problems.items
        count = len(problems)
        raise DeploymentInvalid(
            f"The process definition has {count} problem{'s' if count != 1 else ''}: {problems[0].message}"
            + (" (and more)" if count > 1 else ""),
            problems)

    if main is None:
        first = checker.procs[checker.proc_order[0]]
        note = (f"No executable process in this bundle (process '{first.id}' is isExecutable=false). "
                "It can be stored and viewed but not started.")
        checker.notes.insert(0, note)
        return ParsedBundle(
            process_id=first.id, process_name=first.name or first.id, executable=False, spec=None,
            subprocess_specs={}, files_sha256=checker.sha, user_tasks=[], timers=[],
            processes=list(checker.proc_order), executable_processes=[],
            decisions=list(checker.decisions), notes=checker.notes)

    main_proc = checker.procs[main]
    return ParsedBundle(
        process_id=main, process_name=main_proc.name or main, executable=True, spec=spec,
        subprocess_specs=subprocess_specs, files_sha256=checker.sha, user_tasks=checker.user_tasks,
        timers=checker.timers, processes=list(checker.proc_order), executable_processes=executable,
        decisions=list(checker.decisions), notes=checker.notes)


def _spiff_parse(checker: _BundleChecker, executable: list[str], main: str):
    """Run SpiffWorkflow's parser; every exception becomes a located problem."""
    parser = _BundleParser()
    spec = None
    subprocess_specs: dict[str, Any] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for doc in checker.docs:
            if not doc.schema_ok:
                continue  # already reported; Spiff's errors on a schema-invalid file are noise
            if doc.kind == "dmn":
                ids = [d.get("id") for d in doc.root.findall(f"{{{etree.QName(doc.root).namespace}}}decision")]
                if len(ids) != 1 or not checker.decisions.get(ids[0], (None, None, False))[2]:
                    continue
            try:
                if doc.kind == "bpmn":
                    parser.add_bpmn_xml(doc.tree, filename=doc.name)
                else:
                    parser.add_dmn_xml(doc.root, filename=doc.name)
            except Exception as exc:  # noqa: BLE001 - never let a parser or check error escape
                checker.spiff_problem(exc, default_file=doc.name, fallback=doc.root)
        for pid in executable:
            if not checker.procs[pid].doc.schema_ok or pid not in parser.process_parsers:
                continue
            try:
                parsed = parser.get_spec(pid)
                if pid == main:
                    spec = parsed
            except Exception as exc:  # noqa: BLE001 - never let a parser or check error escape
                checker.spiff_problem(exc, default_file=checker.procs[pid].doc.name, fallback=checker.procs[pid].el)
        if spec is not None and not checker.problems:
            try:
                subprocess_specs = parser.get_subprocess_specs(main)
            except Exception as exc:  # noqa: BLE001 - never let a parser or check error escape
                checker.spiff_problem(exc, default_file=checker.procs[main].doc.name, fallback=checker.procs[main].el)
    for w in caught:
        checker.notes.append(f"SpiffWorkflow: {w.message}")
    return spec, subprocess_specs
