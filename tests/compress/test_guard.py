"""The fact guard and the structure-aware generic reducer, on the output shapes that lost facts
or barely compressed (issue: "How facts were lost on unseen tools"). Fixtures under fixtures/
are real tool output (shellcheck, black, pip, pylint on real code); the others follow the
tools' documented formats."""

from __future__ import annotations

from pathlib import Path

import pytest
from ai_session.core.compress import clean_lines, compress
from ai_session.core.compress.base import Ctx
from ai_session.core.compress.compressor import REDUCERS
from ai_session.core.compress.guard import FACT, LOW, classify, scan

from .helpers import assert_faithful, body_lines

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


# ---------------------------------------------------------------- what a fact is


@pytest.mark.parametrize("line", [
    "src/app.py:12: error: Incompatible return value",  # path:line
    "src/app.ts(3,7): error TS2322: Type 'string' is not assignable",  # file(line,col):
    "[ERROR] /p/src/main/java/App.java:[12,5] cannot find symbol",  # file:[line,col]
    '  File "/home/u/proj/app.py", line 7, in main',  # python frame
    "In deploy.sh line 8:",  # shellcheck's header (kept with what is under it)
    "  --> src/lib.rs:316:9",  # rustc
    "#   at t/basic.t line 4.",  # perl
    "Makefile:12: recipe for target 'all' failed",
])
def test_locations_are_facts(line):
    assert classify(line)


@pytest.mark.parametrize("line", [
    "ERROR: Cannot install requests==2.31.0 and urllib3<1.21",
    "The conflict is caused by:",
    "thread 'main' panicked at src/main.rs:2:5:",
    "ValueError: invalid literal for int() with base 10: 'x'",
    "fatal: not a git repository (or any of the parent directories): .git",
    "!!!!!!!!!!!!!!!!!!!!!!!!!! stopping after 1 failures !!!!!!!!!!!!!!!!!!!!!!!!!!!",
    "Permission denied (publickey).",
    "3 failed, 120 passed, 2 skipped in 4.12s",  # summaries
    "Tests run: 12, Failures: 1, Errors: 0, Skipped: 0",
    "2 files would be reformatted, 11 files would be left unchanged.",
    "added 312 packages, and audited 313 packages in 9s",
    "-- Build files have been written to: /home/u/proj/build",
    "  py311: OK (3.10=setup[2.50]+cmd[0.60] seconds)",
    "+ react 18.2.0",  # what a package manager added
    "FAILED tests/test_api.py::test_login - assert 401 == 200",  # a test id
    "not ok 3 - parses empty input",
])
def test_severities_summaries_and_test_ids_are_facts(line):
    assert classify(line) & FACT


@pytest.mark.parametrize("line", [
    "tests/test_errors.py::test_error_message PASSED                       [ 12%]",  # a pass, whatever its name
    "=== RUN   TestParseError",
    "  ✓ handles errors (3 ms)",
    "  12 |     raise ValueError(msg)",  # a code frame
    "./node_modules/rxjs/util/EmptyError.d.ts",  # a file named after an error
    "node_modules/react-dom/cjs/react-dom.development.js:17432:      error(\"State updates\")",  # vendored content
    "48 packages are looking for funding",
    "   Compiling serde v1.0.188",
])
def test_recognisable_noise_is_not(line):
    assert not classify(line) & FACT


def test_low_levels_count_only_next_to_errors():
    low = "requests/api.py:1:0: C0114: Missing module docstring (missing-module-docstring)"
    assert classify(low) == LOW
    alone = scan([low, low.replace("api", "auth")])
    assert alone.must_keep() == {0, 1}  # only low findings: they are the findings
    mixed = scan([low, "requests/api.py:9:4: E1101: Instance has no member (no-member)"])
    assert mixed.high and mixed.must_keep() == {1}


# ---------------------------------------------------------------- shapes that lost facts


def test_a_location_header_stays_with_its_findings_and_low_findings_are_counted_per_rule():
    raw = fixture("shellcheck.txt")
    r = compress(raw, "shellcheck sh/build.sh", 1)
    lines = r.text.splitlines()
    for finding in ("SC2164 (warning)", "SC2115 (warning)", "SC2070 (error)"):
        at = next(k for k, line in enumerate(lines) if finding in line)
        header = next(line for line in reversed(lines[:at]) if line.startswith("In "))
        assert header in raw and header.endswith(":")
    assert "SC2035 (info)" not in r.text  # an info finding next to errors and warnings...
    assert any(line.startswith("[ai-session]") and "SC2086 (" in line for line in lines)  # ...is counted per rule
    assert "In sh/build.sh line 2:" not in r.text  # a header whose findings were all counted goes with them
    assert_faithful(raw, r)


def test_findings_that_differ_only_in_line_and_column_never_fold():
    raw = "".join(f"src/parser.c:{100 + k}:{k % 7 + 1}: warning: comparison of integers of different signs\n"
                  for k in range(200))  # fmt: skip
    r = compress(raw, "./lint.sh", 0)
    assert all(f"src/parser.c:{100 + k}:{k % 7 + 1}:" in r.text for k in range(200))
    assert "similar lines" not in r.text


@pytest.mark.parametrize("command", ["black --check --diff requests", "git diff"])
def test_file_names_between_diff_hunks_survive_the_diff_reducer(command):
    raw = fixture("black_check_diff.txt")
    r = compress(raw, command, 1)
    for line in raw.splitlines():
        if line.startswith("would reformat"):
            assert line in r.text
    assert "7 files would be reformatted, 11 files would be left unchanged." in r.text


def test_the_explanation_block_of_a_failure_stays_with_its_error_lines():
    raw = fixture("pip_resolver_conflict.txt")
    r = compress(raw, "pip install requests==2.31.0 'urllib3<1.21'", 1)
    for fact in ("ERROR: Cannot install requests==2.31.0 and urllib3<1.21", "The conflict is caused by:",
                 "The user requested urllib3<1.21", "requests 2.31.0 depends on urllib3<3 and >=1.21.1",
                 "ERROR: ResolutionImpossible"):  # fmt: skip
        assert fact in r.text, fact
    assert "Downloading" not in r.text


TOX = """\
lint: install_deps> python -I -m pip install flake8
lint: commands[0]> flake8 src
src/app.py:3:1: F401 'os' imported but unused
src/app.py:10:80: E501 line too long (88 > 79 characters)
lint: exit 1 (0.52 seconds) /home/u/proj> flake8 src pid=4121
py311: install_deps> python -I -m pip install pytest
py311: commands[0]> pytest -q
""" + "".join(f"py311: collected test {k}\n" for k in range(80)) + """\
........................................................................ [ 90%]
........                                                                 [100%]
80 passed in 0.40s
py311: OK ✔ in 3.1 seconds
  lint: FAIL code 1 (0.55=setup[0.03]+cmd[0.52] seconds)
  py311: OK (3.10=setup[2.50]+cmd[0.60] seconds)
  evaluation failed :( (3.70 seconds)
"""


def test_a_multi_environment_runner_keeps_each_environment_s_verdict_and_findings():
    r = compress(TOX, "tox", 1)
    for fact in ("src/app.py:3:1: F401 'os' imported but unused", "src/app.py:10:80: E501 line too long",
                 "lint: FAIL code 1", "py311: OK (3.10", "evaluation failed :(", "80 passed in 0.40s"):  # fmt: skip
        assert fact in r.text, fact
    assert "collected test 40" not in r.text


PNPM = """\
Packages: +3
+++
Progress: resolved 1, reused 0, downloaded 0, added 0
Progress: resolved 3, reused 0, downloaded 3, added 3, done
╭──────────────────────────────────────────╮
│   Update available! 8.15.0 → 9.1.0.      │
│   Run "pnpm add -g pnpm" to update.      │
╰──────────────────────────────────────────╯

dependencies:
+ lodash 4.17.21
+ react 18.2.0
+ react-dom 18.2.0

Done in 1.2s
"""


def test_what_a_package_manager_added_is_kept():
    r = compress(PNPM, "pnpm add lodash react react-dom", 0)
    for fact in ("+ lodash 4.17.21", "+ react 18.2.0", "+ react-dom 18.2.0", "Done in 1.2s"):
        assert fact in r.text, fact


def test_single_decisive_lines_survive():
    pytest_x = ("".join(f"tests/test_m.py::test_{k} PASSED [ {k}%]\n" for k in range(60))
                + "tests/test_m.py::test_bad FAILED\n\n=================================== FAILURES ===================================\n"
                "___________________________________ test_bad ___________________________________\n\n"
                "    def test_bad():\n>       assert 1 == 2\nE       assert 1 == 2\n\ntests/test_m.py:9: AssertionError\n"
                "=========================== short test summary info ============================\n"
                "FAILED tests/test_m.py::test_bad - assert 1 == 2\n"
                "!!!!!!!!!!!!!!!!!!!!!!!!!! stopping after 1 failures !!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
                "========================= 1 failed, 60 passed in 0.31s =========================\n")  # fmt: skip
    assert "stopping after 1 failures" in compress(pytest_x, "pytest -x", 1).text
    traceback = ("".join(f"loading plugin {k}\n" for k in range(80)) + "Traceback (most recent call last):\n"
                 '  File "/usr/lib/python3.11/runpy.py", line 198, in _run_module_as_main\n    return _run_code(code, main_globals, None,\n'
                 '  File "/home/u/proj/app/cli.py", line 42, in main\n    config = load_config(args.path)\n'
                 '  File "/home/u/proj/app/config.py", line 9, in load_config\n    return json.loads(text)\n'
                 '  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads\n    return _default_decoder.decode(s)\n'
                 "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n")  # fmt: skip
    r = compress(traceback, "python -m app.cli", 1)
    assert "    config = load_config(args.path)" in r.text and "    return json.loads(text)" in r.text  # project frames' source
    assert "JSONDecodeError: Expecting value" in r.text
    cmake = ("".join(f"-- Looking for header_{k}.h - found\n" for k in range(80)) + "-- Configuring done\n-- Generating done\n"
             "-- Build files have been written to: /home/u/proj/build\n")  # fmt: skip
    assert "-- Build files have been written to: /home/u/proj/build" in compress(cmake, "cmake -S . -B build", 0).text


# ---------------------------------------------------------------- the reverse: noise that was kept


def test_severity_levels_keep_errors_and_warnings_whole_and_count_the_rest():
    raw = fixture("pylint.txt")
    r = compress(raw, "pylint requests", 20)
    for line in raw.splitlines():
        if ": E0" in line or ": W0" in line:
            assert line in r.text
        if ": C0" in line or ": R0" in line:
            assert line not in r.text
    note = next(line for line in r.text.splitlines() if "low-level findings not shown" in line)
    assert "wrong-import-position" in note and "missing-function-docstring" in note
    assert "Your code has been rated at" in r.text
    assert len(r.text) < len(raw) * 0.6


def test_repetition_collapses_to_first_count_and_last():
    raw = "".join(f"^3f9a2c1 (Ann Lee 2024-03-0{1 + k % 9} 10:00:00 +0000 {k + 1}) line {k} of the file\n"
                  for k in range(300))  # fmt: skip
    r = compress(raw, "./blame.sh", 0)
    assert "^3f9a2c1 (Ann Lee 2024-03-01 10:00:00 +0000 1) line 0 of the file" in r.text
    assert "line 299 of the file" in r.text and "similar lines" in r.text
    assert len(body_lines(r)) < 10


def test_vendored_and_minified_lines_are_counted_per_folder():
    raw = ("".join(f"node_modules/pkg-{k % 7}/lib/index.js:{k}:  return fetchItems(options);\n" for k in range(300))
           + "dist/app.min.js:1:" + "var a=fetchItems;" * 400 + "\n"
           + "src/api/items.ts:41:  const items = await fetchItems({ page });\n")  # fmt: skip
    r = compress(raw, "grep -rn fetchItems .", 0)
    assert "src/api/items.ts:41:  const items = await fetchItems({ page });" in r.text
    assert "index.js:17:" not in r.text and "var a=fetchItems;" not in r.text
    notes = [line for line in r.text.splitlines() if line.startswith("[ai-session]") and "not shown" in line]
    assert any("300" in n and "node_modules" in n for n in notes) and any("dist" in n for n in notes)
    generic = compress(raw, "./search.sh", 0)  # the same counting without a reducer for the tool
    assert "src/api/items.ts:41:" in generic.text and "index.js:17:" not in generic.text
    note = next(line for line in generic.text.splitlines() if "vendored or minified" in line)
    assert "node_modules/pkg-3 (" in note and "dist/app.min.js (1)" in note


def test_a_long_successful_log_keeps_its_outcome_and_counts_the_rest():
    names = ["".join(chr(103 + k // 20**j % 20) for j in range(3)) for k in range(400)]  # distinct words, no digits
    raw = ("".join(f"Fetching {name} from the registry mirror\n" for name in names)
           + "".join(f"Unpacking {name}-sys into the cache\n" for name in names[:200])
           + "".join(f"   Compiling {name} v0.{k % 9}.0\n" for k, name in enumerate(names[:30]))
           + "    Finished `release` profile [optimized] target(s) in 1m 12s\n")  # fmt: skip
    r = compress(raw, "./build.sh", 0)
    assert "Finished `release` profile [optimized] target(s) in 1m 12s" in r.text
    assert all(f"Compiling {name} v0." in r.text for name in names[:30])  # what a successful run built
    note = next(line for line in r.text.splitlines() if "successful run not shown" in line)
    assert "`Fetching …` (" in note and "`Unpacking …` (" in note
    assert len(body_lines(r)) < 60
    failed = compress(raw.replace("    Finished", "error: linking failed\n    Finished"), "./build.sh", 1)
    assert not any(f"Compiling {name} v0." in failed.text for name in names[1:29])  # failing: progress


# ---------------------------------------------------------------- every reducer obeys the guard


@pytest.mark.parametrize("tool", sorted(REDUCERS))
def test_every_reducer_keeps_the_facts_of_an_output_it_was_not_made_for(tool):
    raw = fixture("shellcheck.txt") + TOX + fixture("pip_resolver_conflict.txt")
    r = compress(raw, {"files": "find .", "git": "git log", "docker": "docker build ."}.get(tool, tool), 1)
    for fact in ("In sh/build.sh line 8:", "SC2164 (warning)", "src/app.py:3:1: F401", "lint: FAIL code 1",
                 "The conflict is caused by:", "requests 2.31.0 depends on urllib3<3 and >=1.21.1"):  # fmt: skip
        assert fact in r.text, (tool, fact)
    lines = clean_lines(raw)
    out = REDUCERS[tool](lines, Ctx(command="", exit_code=1, tool=tool))
    assert all(line.startswith("[ai-session]") or line in lines or any(c.startswith(line) for c in lines)
               for line in out.render())  # fmt: skip


def test_a_coverage_table_keeps_every_row():
    rows = "".join(f"src/pkg/module_{k}.py{' ' * 10}{100 + k}{' ' * 6}{k % 7}{' ' * 4}{95 - k % 7}%   {k + 3}-{k + 5}\n"
                   for k in range(40))  # fmt: skip
    raw = ("".join(f"tests/test_m.py::test_{k} PASSED [ {k}%]\n" for k in range(120))
           + "\n---------- coverage: platform linux, python 3.11.7-final-0 -----------\n"
           + "Name                        Stmts   Miss  Cover   Missing\n" + "-" * 56 + "\n" + rows + "-" * 56 + "\n"
           + "TOTAL                        4780    120    97%\n\n"
           + "============================= 120 passed in 3.21s ==============================\n")  # fmt: skip
    r = compress(raw, "pytest --cov=src", 0)
    assert "Name                        Stmts   Miss  Cover   Missing" in r.text
    assert all(line in r.text for line in rows.splitlines())
    assert "TOTAL                        4780    120    97%" in r.text and "test_7 PASSED" not in r.text
