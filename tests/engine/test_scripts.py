"""The script allowlist (deploy time) and the restricted script environment (run time)."""
from __future__ import annotations

import pytest

from engine.spiff import scripts
from engine.spiff.scripts import (
    DEFAULT_FUNCTIONS,
    MAX_INT_BITS,
    MAX_ITEMS,
    RUNTIME_BUILTINS,
    SAFE_BUILTINS,
    SafeTaskDataEnvironment,
    ScriptLimitExceeded,
    ScriptNotAllowed,
    check_code,
    make_script_engine,
)

ESCAPE = "().__class__.__base__.__subclasses__()"


# --------------------------------------------------------------------------------------------
# check_code: allowed


@pytest.mark.parametrize(
    "source",
    [
        "x = 1",
        "total = fine + late_fee(fine, days)\nif total > 200000:\n    needs_review = True\nelse:\n    needs_review = False",
        "names = [p.get('name', '').strip().upper() for p in parties if p.get('role') == 'party']",
        "count = 0\nfor item in items:\n    if item:\n        count += 1\n    else:\n        continue",
        "d = {k: v for k, v in data.items() if v is not None}\nkeys = sorted(d.keys())",
        "msg = f\"{case_no}: {amount:.2f} yuan\"",
        "served_at = now()\nstatement_due = due_date(served_at, 5, 'working_days')",
        "result = {}\nresult['a'] = 1\ndel result['a']\ndel tmp",
        "a, b = pair\nc = a ** 2 + b % 3 // 1",
        "ok = any(x > 1 for x in values) and not all(y for y in flags)",
        "pass",
        "parts = case_no.split('-')\nyear = int(parts[1]) if len(parts) > 1 else None",
        "first = items[0:2]\nidx = items.index(x)",
    ],
)
def test_allowed_scripts(source):
    assert check_code(source, "exec") == []


@pytest.mark.parametrize(
    "source",
    [
        "approved == True",
        "deadline(served_at, 5, \"working_days\")",
        "\"PT2H\"",
        "amount >= 10000 and party_type in ['person', 'company']",
        "  fine > 0  ",  # surrounding blanks, as XML text often has
        "now()",
        "x if y else z",
        "-1 < ? < 5".replace("?", "dmninputexpr"),
    ],
)
def test_allowed_expressions(source):
    assert check_code(source, "eval") == []


# --------------------------------------------------------------------------------------------
# check_code: rejected


@pytest.mark.parametrize(
    ("source", "mode", "fragment"),
    [
        (ESCAPE, "eval", "'__subclasses__'"),
        ("().__class__", "eval", "'__class__'"),
        ("import os", "exec", "import"),
        ("from os import system", "exec", "import"),
        ("__import__('os').system('id')", "eval", "'__import__'"),
        ("exec('x=1')", "eval", "'exec'"),
        ("eval('1')", "eval", "'eval'"),
        ("open('/etc/passwd').read()", "eval", "'open'"),
        ("getattr(x, 'y')", "eval", "'getattr'"),
        ("setattr(x, 'y', 1)", "exec", "'setattr'"),
        ("type(x)", "eval", "'type'"),
        ("compile('1', 'f', 'eval')", "eval", "'compile'"),
        ("vars()", "eval", "'vars'"),
        ("globals()", "eval", "'globals'"),
        ("locals()", "eval", "'locals'"),
        ("f = open", "exec", "'open'"),
        ("lambda: 1", "eval", "lambda"),
        ("def f():\n    return 1", "exec", "def"),
        ("class A:\n    pass", "exec", "class"),
        ("global x\nx = 1", "exec", "global"),
        ("while True:\n    pass", "exec", "while"),
        ("with open('x') as f:\n    pass", "exec", "with"),
        ("try:\n    x = 1\nexcept Exception:\n    pass", "exec", "try"),
        ("raise ValueError()", "exec", "raise"),
        ("x = (yield)", "exec", "yield"),
        ("assert x", "exec", "assert"),
        ("(y := 1)", "eval", ":="),
        ("_private", "eval", "'_private'"),
        ("x._y", "eval", "'_y'"),
        ("x.__dict__", "eval", "'__dict__'"),
        ("'{0.__class__}'.format(x)", "eval", "'format'"),
        ("f'{x.__class__}'", "eval", "'__class__'"),
        ("x.append(1)", "exec", "'append'"),
        ("x.y = 1", "exec", "'y'"),
        ("gen.gi_frame", "eval", "'gi_frame'"),
        ("unknown_function(1)", "eval", "call to 'unknown_function'"),
        ("print('x')", "exec", "call to 'print'"),
        ("items[0]()", "eval", "only named functions"),
        ("2 ** 10 ** 10", "eval", "nested powers"),
        ("2 ** 100000", "eval", "exponent"),
        ("deadline = 1", "exec", "hide an injected function"),
        ("${approved}", "eval", "not a valid Python expression"),
        ("x = 1\n  y = 2", "exec", "line 2"),
        ("async def f():\n    pass", "exec", "not allowed"),
        ("for x in y:\n    pass\nelse:\n    pass", "exec", "for ... else"),
    ],
)
def test_rejected(source, mode, fragment):
    errors = check_code(source, mode)
    assert errors, f"{source!r} should be rejected"
    assert any(fragment in e for e in errors), errors


def test_messages_carry_the_line():
    errors = check_code("x = 1\ny = 2\nimport os", "exec")
    assert errors == ["line 3: import is not allowed"]


def test_all_violations_are_reported():
    errors = check_code("import os\nx = ().__class__\nopen('f')", "exec")
    assert len(errors) == 3


def test_empty_and_non_text():
    assert check_code("", "eval") == ["empty expression"]
    assert check_code("   ", "exec") == ["empty script"]
    assert check_code(None, "eval") == ["empty expression"]
    assert check_code(b"x", "eval")[0].startswith("expected text")


def test_bad_mode():
    with pytest.raises(ValueError):
        check_code("x", "single")


def test_injected_names_are_configurable():
    assert check_code("custom()", "eval") != []
    assert check_code("custom()", "eval", functions={"custom"}) == []
    # replacing the set means the defaults are no longer allowed
    assert check_code("deadline(x, 1, 'working_days')", "eval", functions={"custom"}) != []
    assert {"deadline", "now", "late_fee", "due_date"} <= DEFAULT_FUNCTIONS


def test_deeply_nested_source_is_rejected_not_crashing():
    errors = check_code("(" * 5000 + "1" + ")" * 5000, "eval")
    assert errors


# --------------------------------------------------------------------------------------------
# run time


def _engine(**functions):
    return make_script_engine({"now": lambda: "2024-01-02T09:00:00+08:00", **functions})


def test_engine_type_and_environment():
    engine = _engine()
    assert isinstance(engine.environment, SafeTaskDataEnvironment)
    assert engine.environment.globals["__builtins__"] == RUNTIME_BUILTINS
    assert set(RUNTIME_BUILTINS) == set(SAFE_BUILTINS)  # the same names; range is the bounded one


@pytest.mark.parametrize("source", [
    'x = "x" * 10**10',
    "x = [0] * 10**9",
    "x = 10**9 * [0]",
    "y = 10**6\nx = 2 ** y",
    "x = 1 << 10**7",
    "x = list(range(10**9))",
    "x = 2\nfor i in range(40):\n    x = x * x",
    "x = 'ab'\nx *= 10**9",
])
def test_scripts_cannot_build_huge_values(source):
    engine = _engine()
    data: dict = {}
    with pytest.raises(ScriptLimitExceeded):
        engine.environment.execute(source, data)
    left = data.get("x", 0)  # what the script had built before it was stopped is within the limits
    assert left.bit_length() <= MAX_INT_BITS if isinstance(left, int) else len(left) <= MAX_ITEMS


def test_ordinary_arithmetic_still_works_under_the_limits():
    engine = _engine()
    data = {"fine": 3000, "days": 12, "tag": "ab"}
    engine.environment.execute(
        "fee = fine * 3 / 100 * days\nsquare = days ** 2\nbits = 1 << 10\nrule = tag * 3\nn = 5\nn *= 2\n"
        "steps = [i * 2 for i in range(5)]",
        data,
    )
    assert (data["fee"], data["square"], data["bits"], data["rule"], data["n"]) == (1080.0, 144, 1024, "ababab", 10)
    assert data["steps"] == [0, 2, 4, 6, 8]
    assert engine.environment.evaluate("fine * 2 > 5000 and 2 ** 3 == 8", data) is True


def test_safe_script_runs_with_injected_function():
    engine = _engine(double=lambda x: 2 * x)
    data = {"fine": 100}
    engine.environment.execute("total = double(fine)\nstamp = now()", data)
    assert data == {"fine": 100, "total": 200, "stamp": "2024-01-02T09:00:00+08:00"}
    assert engine.environment.evaluate("total > 150 and len([1, 2]) == 2", data) is True


def test_expression_with_surrounding_whitespace_runs():
    assert _engine().environment.evaluate("\n    1 + 1\n  ", {}) == 2


@pytest.mark.parametrize("source", [ESCAPE, "import os", "__import__('os')", "open('/etc/passwd')"])
def test_escape_cannot_run(source):
    env = _engine().environment
    data: dict = {}
    with pytest.raises(ScriptNotAllowed):
        env.execute(f"result = {source}" if not source.startswith("import") else source, data)
    assert "result" not in data and "os" not in data
    if not source.startswith("import"):
        with pytest.raises(ScriptNotAllowed):
            env.evaluate(source, {})


def test_subclasses_escape_is_rejected_at_deploy_and_at_run_time():
    # deploy time
    assert check_code(ESCAPE, "eval")
    assert check_code(f"x = {ESCAPE}", "exec")
    assert check_code("import os", "exec")
    # run time, through the same entry points SpiffWorkflow uses (environment.execute / evaluate)
    env = _engine().environment
    with pytest.raises(ScriptNotAllowed):
        env.execute(f"x = {ESCAPE}", {})
    with pytest.raises(ScriptNotAllowed):
        env.execute("import os\nos.system('true')", {})
    with pytest.raises(ScriptNotAllowed):
        env.evaluate(ESCAPE, {})


def test_builtins_are_restricted_even_if_the_check_were_bypassed(monkeypatch):
    """Second layer: without the allowlist, `import` still fails for lack of __import__."""
    monkeypatch.setattr(scripts, "check_code", lambda *a, **k: [])
    env = _engine().environment
    with pytest.raises(ImportError):
        env.execute("import os", {})
    with pytest.raises(NameError):
        env.evaluate("open", {})


def test_task_data_cannot_replace_builtins(monkeypatch):
    import builtins

    monkeypatch.setattr(scripts, "check_code", lambda *a, **k: [])
    env = _engine().environment
    with pytest.raises(NameError):
        env.evaluate("open", {"__builtins__": vars(builtins)})
    data = {"__builtins__": vars(builtins)}
    with pytest.raises(ImportError):
        env.execute("import os", data)


def test_script_leaves_no_globals_in_task_data():
    data = {"a": 1}
    _engine().environment.execute("b = a + 1", data)
    assert data == {"a": 1, "b": 2}
