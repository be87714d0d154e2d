"""Scripts and expressions in BPMN are untrusted: checked at deploy time, run with restricted builtins.

SpiffWorkflow evaluates scripts with plain `exec` / `eval`. Restricted builtins alone do not make
that safe (`().__class__.__base__.__subclasses__()` needs no builtin at all), so every script and
expression must first pass `check_code`, an allowlist of Python syntax:

- literals, names, arithmetic / boolean / comparison operators, subscripts and slices,
  conditional expressions, comprehensions and generator expressions, f-strings;
- statements: expression, assignment (also augmented), `if`, `for` (no `while`), `pass`,
  `break`, `continue`, `del`;
- calls only to the allowlisted builtins (`SAFE_BUILTINS`) and the injected functions
  (`deadline`, `now`, `late_fee`, `due_date`, ... as passed), or to an allowlisted method;
- attribute access only to a small set of read-only methods / fields (`ALLOWED_ATTRIBUTES`);
- nothing whose name starts with `_` (dunder names and attributes, private names), and none of
  the dangerous builtins (`exec`, `eval`, `open`, `getattr`, `type`, ...) even as a bare name.

Forbidden: import, def / class / lambda, global / nonlocal, with, try / raise, while, yield,
await, async, walrus, match, assert, return, and everything not listed above.

`check_code` is what deployment runs on every script and expression. `make_script_engine`
runs the same check again before each evaluation at run time (cached), so a script that
slipped past deployment (or task data crafted to look like code) still cannot run, and it
runs with restricted builtins that the task data cannot replace.

At run time the code is also compiled with size guards: `a * b`, `a ** b`, `a << b` and `range`
refuse to build a sequence of more than `MAX_ITEMS` items or an integer of more than `MAX_INT_BITS`
bits (`ScriptLimitExceeded`), so a short expression cannot exhaust the server's memory. Time is not
limited: loops are bounded by `for` over bounded ranges, but nested loops can still take long.
"""
from __future__ import annotations

import ast
import builtins as _builtins_module
import copy
from collections.abc import Callable, Collection, Iterable
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from engine.errors import WorkflowError

_SAFE_BUILTIN_NAMES = (
    "abs", "all", "any", "bool", "dict", "enumerate", "float", "int", "len", "list", "max",
    "min", "range", "round", "set", "sorted", "str", "sum", "tuple", "zip", "True", "False", "None",
)

SAFE_BUILTINS: dict[str, Any] = {name: getattr(_builtins_module, name) for name in _SAFE_BUILTIN_NAMES}

# Builtins a script may call (the constants are not callable).
CALLABLE_BUILTINS: frozenset[str] = frozenset(n for n in _SAFE_BUILTIN_NAMES if n not in ("True", "False", "None"))

# The functions the engine injects into every script environment (more may be passed).
DEFAULT_FUNCTIONS: frozenset[str] = frozenset({"deadline", "now", "late_fee", "due_date"})

# Attribute names a script may use: read-only methods of dict / str / list and date fields.
# Deliberately absent: str.format / format_map (format strings reach attributes by name),
# mutating list / dict methods (nested task data is shared between tasks), anything with "_".
ALLOWED_ATTRIBUTES: frozenset[str] = frozenset({
    # dict
    "get", "keys", "values", "items", "copy",
    # str
    "strip", "lstrip", "rstrip", "upper", "lower", "startswith", "endswith", "split", "join",
    "replace", "isdigit",
    # sequences
    "count", "index",
    # date / datetime values returned by injected functions
    "isoformat", "year", "month", "day", "hour", "minute",
})

# Names that may not appear at all, even as a plain name (not only as a call).
FORBIDDEN_NAMES: frozenset[str] = frozenset({
    "exec", "eval", "compile", "open", "input", "breakpoint", "help", "exit", "quit",
    "getattr", "setattr", "delattr", "hasattr", "type", "vars", "globals", "locals", "dir",
    "object", "super", "memoryview",
})

MAX_CONSTANT_EXPONENT = 1000

# Syntax allowed, by node type. Anything else is rejected with its type name.
_ALLOWED_NODES: tuple[type, ...] = (
    ast.Module, ast.Expression,
    # statements
    ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.Pass, ast.Break, ast.Continue, ast.Delete,
    # expressions
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword,
    ast.Constant, ast.Name, ast.Attribute, ast.Subscript, ast.Slice, ast.Starred,
    ast.List, ast.Tuple, ast.Dict, ast.Set,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension,
    ast.JoinedStr, ast.FormattedValue,
    # contexts and operators
    ast.Load, ast.Store, ast.Del,
    ast.And, ast.Or, ast.Not, ast.UAdd, ast.USub, ast.Invert,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
)

_DESCRIBE = {
    ast.Import: "import", ast.ImportFrom: "import", ast.Lambda: "lambda",
    ast.FunctionDef: "function definition (def)", ast.AsyncFunctionDef: "function definition (def)",
    ast.ClassDef: "class definition", ast.Global: "global", ast.Nonlocal: "nonlocal",
    ast.With: "with", ast.AsyncWith: "with", ast.Try: "try", ast.Raise: "raise",
    ast.While: "while loop", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Await: "await",
    ast.AsyncFor: "async for", ast.NamedExpr: "assignment expression (:=)", ast.Assert: "assert",
    ast.Return: "return", ast.AnnAssign: "annotated assignment", ast.MatchAs: "match",
}
if hasattr(ast, "TryStar"):
    _DESCRIBE[ast.TryStar] = "try"
if hasattr(ast, "Match"):
    _DESCRIBE[ast.Match] = "match"


class ScriptNotAllowed(WorkflowError):
    """A script or expression failed the allowlist at run time; it was not executed."""

    title = "Script not allowed"


class _Checker(ast.NodeVisitor):
    def __init__(self, functions: frozenset[str]):
        self.functions = functions
        self.callable_names = CALLABLE_BUILTINS | functions
        self.errors: list[str] = []

    def _err(self, node: ast.AST, message: str) -> None:
        line = getattr(node, "lineno", None)
        self.errors.append(f"line {line}: {message}" if line else message)

    def generic_visit(self, node: ast.AST) -> None:
        if not isinstance(node, _ALLOWED_NODES):
            what = _DESCRIBE.get(type(node), type(node).__name__)
            self._err(node, f"{what} is not allowed")
            return  # do not descend: one message per forbidden construct
        super().generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            self._err(node, f"name {node.id!r} is not allowed (names may not start with '_')")
        elif node.id in FORBIDDEN_NAMES:
            self._err(node, f"name {node.id!r} is not allowed")
        elif isinstance(node.ctx, (ast.Store, ast.Del)) and node.id in self.functions:
            self._err(node, f"assigning to {node.id!r} would hide an injected function")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_"):
            self._err(node, f"attribute {node.attr!r} is not allowed (attributes may not start with '_')")
        elif node.attr not in ALLOWED_ATTRIBUTES:
            self._err(node, f"attribute {node.attr!r} is not allowed")
        elif not isinstance(node.ctx, ast.Load):
            self._err(node, f"assigning to attribute {node.attr!r} is not allowed")
        self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            if func.id.startswith("_") or func.id in FORBIDDEN_NAMES:
                self.visit_Name(func)
            elif func.id not in self.callable_names:
                self._err(node, f"call to {func.id!r} is not allowed (allowed: builtins "
                                f"{', '.join(sorted(CALLABLE_BUILTINS))}; functions "
                                f"{', '.join(sorted(self.functions)) or 'none'})")
        elif isinstance(func, ast.Attribute):
            self.visit_Attribute(func)
        else:
            self._err(node, "only named functions and allowed methods may be called")
            self.visit(func)
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            self.visit(kw.value)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Pow):
            right = node.right
            if isinstance(right, ast.UnaryOp) and isinstance(right.op, (ast.USub, ast.UAdd)):
                right = right.operand
            if isinstance(right, ast.Constant) and isinstance(right.value, (int, float)) \
                    and abs(right.value) > MAX_CONSTANT_EXPONENT:
                self._err(node, f"exponent larger than {MAX_CONSTANT_EXPONENT} is not allowed")
            elif any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(node.right)):
                self._err(node, "nested powers (a ** b ** c) are not allowed")
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        if node.orelse:
            self._err(node, "for ... else is not allowed")
        self.generic_visit(node)


def _normalise_functions(functions: Iterable[str] | None) -> frozenset[str]:
    return DEFAULT_FUNCTIONS if functions is None else frozenset(functions)


@lru_cache(maxsize=4096)
def _check_cached(source: str, mode: str, functions: frozenset[str]) -> tuple[str, ...]:
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        where = f"line {exc.lineno}: " if exc.lineno else ""
        what = "expression" if mode == "eval" else "script"
        return (f"{where}not a valid Python {what}: {exc.msg}",)
    except (ValueError, MemoryError, RecursionError) as exc:  # null bytes, absurd nesting
        return (f"cannot be parsed: {exc}",)
    checker = _Checker(functions)
    try:
        checker.visit(tree)
    except RecursionError:
        return ("expression is nested too deeply",)
    return tuple(checker.errors)


def check_code(source: str | None, mode: str = "exec", functions: Iterable[str] | None = None) -> list[str]:
    """Check a script (`mode="exec"`) or expression (`mode="eval"`) against the allowlist.

    `functions` are the names of the injected functions a call may target (default
    `DEFAULT_FUNCTIONS`). Returns a list of messages ("line N: ..."); empty means allowed.
    """
    if source is not None and not isinstance(source, str):
        return [f"expected text, got {type(source).__name__}"]
    if source is None or not source.strip():
        return ["empty script" if mode == "exec" else "empty expression"]
    if mode == "eval":
        source = source.strip()
    return list(_check_cached(source, mode, _normalise_functions(functions)))


# -- limits at run time -------------------------------------------------------------------------
# The allowlist keeps scripts away from the interpreter's internals; these keep them from exhausting
# memory with a short expression ("x" * 10**10, 2 ** 10**9, 1 << 10**9, list(range(10**9))).
MAX_ITEMS = 1_000_000  # elements of a sequence a script may build by repetition or range
MAX_INT_BITS = 100_000  # size of an integer a script may compute (about 30,000 decimal digits)


class ScriptLimitExceeded(WorkflowError):
    """A script tried to build a value larger than the run-time limits allow."""

    title = "Script limit exceeded"


def _too_big(what: str) -> ScriptLimitExceeded:
    return ScriptLimitExceeded(f"the script would build {what}: stopped (limits of BPMN scripts)")


def _guard_mul(a: Any, b: Any) -> Any:
    for seq, n in ((a, b), (b, a)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int) and len(seq) * max(n, 0) > MAX_ITEMS:
            raise _too_big(f"a sequence of {len(seq) * n} items")
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
        raise _too_big(f"an integer of more than {MAX_INT_BITS} bits")
    return a * b


def _guard_pow(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and max(a.bit_length(), 1) * b > MAX_INT_BITS:
        raise _too_big(f"an integer of more than {MAX_INT_BITS} bits")
    return a ** b


def _guard_lshift(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b > MAX_INT_BITS:
        raise _too_big(f"an integer of more than {MAX_INT_BITS} bits")
    return a << b


def _guard_range(*args: int) -> range:
    found = range(*args)
    if len(found) > MAX_ITEMS:
        raise _too_big(f"a range of {len(found)} items")
    return found


_GUARDS = {ast.Mult: "__zhifa_mul", ast.Pow: "__zhifa_pow", ast.LShift: "__zhifa_lshift"}
_GUARD_FUNCTIONS = {"__zhifa_mul": _guard_mul, "__zhifa_pow": _guard_pow, "__zhifa_lshift": _guard_lshift}


class _Guarded(ast.NodeTransformer):
    """a * b, a ** b, a << b (also augmented) become calls of the guards above. Scripts cannot name
    the guards themselves: the allowlist refuses every name that starts with '_'."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        guard = _GUARDS.get(type(node.op))
        if guard is None:
            return node
        return ast.copy_location(ast.Call(ast.Name(guard, ast.Load()), [node.left, node.right], []), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        guard = _GUARDS.get(type(node.op))
        if guard is None or not isinstance(node.target, (ast.Name, ast.Subscript)):
            return node
        load = copy.deepcopy(node.target)
        load.ctx = ast.Load()
        call = ast.Call(ast.Name(guard, ast.Load()), [load, node.value], [])
        return ast.copy_location(ast.Assign([node.target], call), node)


@lru_cache(maxsize=4096)
def _compiled(source: str, mode: str) -> Any:
    tree = _Guarded().visit(ast.parse(source, mode=mode))
    return compile(ast.fix_missing_locations(tree), "<bpmn script>", mode)


RUNTIME_BUILTINS: dict[str, Any] = {**SAFE_BUILTINS, "range": _guard_range}


class SafeTaskDataEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment that refuses code failing `check_code` and pins restricted builtins."""

    def __init__(self, environment_globals: dict[str, Any], functions: Collection[str]):
        super().__init__(environment_globals)
        self.functions = frozenset(functions)

    def _require_allowed(self, source: str, mode: str) -> None:
        errors = check_code(source, mode, self.functions)
        if errors:
            raise ScriptNotAllowed("Script or expression not allowed: " + "; ".join(errors))

    def evaluate(self, expression, context, external_context=None):
        self._require_allowed(expression, "eval")
        my_globals = copy.copy(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context or {})
        my_globals.update(context)
        my_globals.update(_GUARD_FUNCTIONS)
        my_globals["__builtins__"] = dict(RUNTIME_BUILTINS)  # task data cannot replace the builtins
        return eval(_compiled(expression.strip(), "eval"), my_globals)  # checked by the allowlist above

    def execute(self, script, context, external_context=None):
        self._require_allowed(script, "exec")
        context.pop("__builtins__", None)
        return super().execute(_compiled(script, "exec"), context, external_context)


def make_script_engine(functions: dict[str, Callable[..., Any]]) -> PythonScriptEngine:
    """A script engine whose scripts see only safe builtins and the injected functions.

    Every script and expression is checked against the allowlist before it runs; calls may
    target the safe builtins and the names in `functions`.
    """
    env_globals = {"__builtins__": dict(RUNTIME_BUILTINS), **functions, **_GUARD_FUNCTIONS}
    return PythonScriptEngine(environment=SafeTaskDataEnvironment(env_globals, functions.keys()))
