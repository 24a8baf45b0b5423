from ai_session.core.compress import compress

from .helpers import assert_faithful

CLIPPY = """\
    Checking demo v0.1.0 (/home/u/demo)
warning: this `if` has identical blocks
  --> src/main.rs:10:15
   |
10 |       if x > 1 {
   |  _______________^
11 | |         y += 1;
12 | |     } else {
   | |_____^
   |
   = help: for further information visit https://rust-lang.github.io/rust-clippy/master/index.html#if_same_then_else
   = note: `#[warn(clippy::if_same_then_else)]` on by default

error[E0308]: mismatched types
 --> src/lib.rs:4:5
  |
3 | fn f() -> u32 {
  |           --- expected `u32` because of return type
4 |     "x"
  |     ^^^ expected `u32`, found `&str`

error[E0308]: mismatched types
 --> src/lib.rs:9:5
  |
9 |     "y"
  |     ^^^ expected `u32`, found `&str`

warning: `demo` (lib) generated 1 warning
error: could not compile `demo` (lib) due to 2 previous errors; 1 warning emitted
"""


def test_cargo_clippy_first_error_in_full_then_headline_and_locations():
    r = compress(CLIPPY, "cargo clippy", 101)
    assert r.tool == "cargo"
    text = r.text
    for fact in ["warning: this `if` has identical blocks", "--> src/main.rs:10:15", "error[E0308]: mismatched types",
                 "--> src/lib.rs:4:5", "expected `u32`, found `&str`", "--> src/lib.rs:9:5",
                 "error: could not compile `demo` (lib) due to 2 previous errors; 1 warning emitted"]:
        assert fact in text, fact
    assert text.count("error[E0308]: mismatched types") == 1  # repeats grouped under the first
    assert "Checking demo" not in text and "rust-clippy/master" not in text
    assert_faithful(CLIPPY, r)
    locs = {(d.file, d.line, d.severity) for d in r.diagnostics}
    assert {("src/main.rs", 10, "warning"), ("src/lib.rs", 4, "error"), ("src/lib.rs", 9, "error")} <= locs


GO_PLAIN = """\
--- FAIL: TestParse (0.00s)
    parse_test.go:21: Parse("1.2") = 1, want 1.2
    --- FAIL: TestParse/negative (0.00s)
        parse_test.go:30: Parse("-1") returned error: invalid syntax
FAIL
FAIL	example.com/calc	0.004s
ok  	example.com/calc/internal/lex	0.002s
?   	example.com/calc/cmd	[no test files]
FAIL
"""


def test_go_test_plain():
    raw = GO_PLAIN.replace("?   \texample.com/calc/cmd\t[no test files]\n", "".join(
        f"?   \texample.com/calc/cmd{k}\t[no test files]\n" for k in range(10)))
    r = compress(raw, "go test ./...", 1)
    for fact in ["--- FAIL: TestParse (0.00s)", 'parse_test.go:21: Parse("1.2") = 1, want 1.2',
                 "--- FAIL: TestParse/negative (0.00s)", "FAIL\texample.com/calc\t0.004s",
                 "ok  \texample.com/calc/internal/lex\t0.002s"]:
        assert fact in r.text, fact
    assert "[no test files]" not in r.text
    assert ("parse_test.go", 21) in {(d.file, d.line) for d in r.diagnostics}


GO_VERBOSE_PANIC = """\
=== RUN   TestOK
    ok_test.go:5: just logging
--- PASS: TestOK (0.00s)
=== RUN   TestCrash
    crash_test.go:9: about to index
panic: runtime error: index out of range [3] with length 3 [recovered]
	panic: runtime error: index out of range [3] with length 3

goroutine 7 [running]:
testing.tRunner.func1.2({0x5a1b20, 0xc000016108})
	/usr/local/go/src/testing/testing.go:1631 +0x24a
example.com/x.TestCrash(0xc0000a8820)
	/home/u/x/crash_test.go:10 +0x1d
FAIL	example.com/x	0.006s
FAIL
"""


def test_go_verbose_drops_passing_output_keeps_panic_and_crashing_test_log():
    r = compress(GO_VERBOSE_PANIC, "go test -v ./...", 1)
    assert "just logging" not in r.text and "=== RUN" not in r.text
    for fact in ["crash_test.go:9: about to index", "panic: runtime error: index out of range [3] with length 3",
                 "/home/u/x/crash_test.go:10 +0x1d", "FAIL\texample.com/x\t0.006s"]:
        assert fact in r.text, fact
    assert_faithful(GO_VERBOSE_PANIC, r)


TSC_PRETTY = """\
src/app.ts:12:7 - error TS2322: Type 'string' is not assignable to type 'number'.

12 const n: number = "1";
         ~

src/app.ts:20:3 - error TS2554: Expected 1 arguments, but got 2.

20   f(1, 2);
     ~~~~~~~

  src/lib.ts:3:10
    3 function f(a: number) {}
               ~~~~~~~~~~~~~~
    An argument for 'a' was provided here.


Found 2 errors in the same file, starting at: src/app.ts:12
"""


def test_tsc_pretty_drops_code_frames():
    r = compress(TSC_PRETTY, "tsc --noEmit", 2)
    assert r.tool == "linter"
    assert "src/app.ts:12:7 - error TS2322: Type 'string' is not assignable to type 'number'." in r.text
    assert "src/app.ts:20:3 - error TS2554: Expected 1 arguments, but got 2." in r.text
    assert "Found 2 errors in the same file, starting at: src/app.ts:12" in r.text
    assert 'const n: number = "1";' not in r.text and "~~~~" not in r.text
    assert [(d.file, d.line, d.column, d.code) for d in r.diagnostics][:2] == [
        ("src/app.ts", 12, 7, "TS2322"), ("src/app.ts", 20, 3, "TS2554")]


ESLINT = """\

/home/u/web/src/index.js
   3:7   error    'unused' is assigned a value but never used  no-unused-vars
  10:1   warning  Unexpected console statement                 no-console

/home/u/web/src/util.js
  1:1  error  Parsing error: Unexpected token <

✖ 3 problems (2 errors, 1 warning)
  0 errors and 1 warning potentially fixable with the `--fix` option.

"""


def test_eslint_stylish_keeps_file_headers_rows_and_summary():
    r = compress(ESLINT, "npx eslint src", 1)
    for fact in ["/home/u/web/src/index.js", "3:7   error    'unused' is assigned a value but never used",
                 "10:1   warning  Unexpected console statement", "/home/u/web/src/util.js",
                 "1:1  error  Parsing error: Unexpected token <", "✖ 3 problems (2 errors, 1 warning)"]:
        assert fact in r.text, fact
    d = {(x.file, x.line, x.severity, x.code) for x in r.diagnostics}
    assert ("/home/u/web/src/index.js", 3, "error", "no-unused-vars") in d
    assert ("/home/u/web/src/index.js", 10, "warning", "no-console") in d


RUFF_FULL = """\
app/main.py:1:8: F401 [*] `os` imported but unused
  |
1 | import os
  |        ^^ F401
2 | import sys
  |
  = help: Remove unused import: `os`

app/main.py:9:5: E741 Ambiguous variable name: `l`
  |
9 |     l = 1
  |     ^ E741
  |

Found 2 errors.
[*] 1 fixable with the `--fix` option.
"""


def test_ruff_full_format():
    head, summary = RUFF_FULL.split("Found")
    raw = "".join(head.replace("app/main.py", f"app/m{k}.py") for k in range(4)) + "Found" + summary
    r = compress(raw, "ruff check .", 1)
    for fact in ["app/m0.py:1:8: F401 [*] `os` imported but unused", "app/m3.py:9:5: E741 Ambiguous variable name",
                 "Found 2 errors.", "[*] 1 fixable with the `--fix` option."]:
        assert fact in r.text, fact
    assert "import sys" not in r.text and "= help" not in r.text


PYRIGHT = """\
/home/u/p/src/a.py
  /home/u/p/src/a.py:4:12 - error: Type "int" is not assignable to return type "str"
    "int" is not assignable to "str" (reportReturnType)
  /home/u/p/src/a.py:9:1 - warning: Import "yaml" could not be resolved from source (reportMissingModuleSource)
1 error, 1 warning, 0 informations
"""


def test_pyright():
    r = compress(PYRIGHT * 3, "pyright", 1)
    assert r.text.count('/home/u/p/src/a.py:4:12 - error: Type "int" is not assignable to return type "str"') == 1
    assert "1 error, 1 warning, 0 informations" in r.text
    assert ("/home/u/p/src/a.py", 9, "warning") in {(d.file, d.line, d.severity) for d in r.diagnostics}


MAKE_GCC = """\
make -C lib
make[1]: Entering directory '/home/u/proj/lib'
gcc -O2 -Wall -c -o util.o util.c
util.c: In function 'parse':
util.c:14:9: warning: unused variable 'tmp' [-Wunused-variable]
   14 |     int tmp;
      |         ^~~
util.c:20:12: error: 'buf' undeclared (first use in this function)
   20 |     return buf[0];
      |            ^~~
util.c:20:12: note: each undeclared identifier is reported only once for each function it appears in
make[1]: *** [Makefile:8: util.o] Error 1
make[1]: Leaving directory '/home/u/proj/lib'
make: *** [Makefile:4: all] Error 2
"""


def test_make_and_gcc():
    r = compress(MAKE_GCC, "make", 2)
    assert r.tool == "c_build"
    for fact in ["util.c:14:9: warning: unused variable 'tmp' [-Wunused-variable]",
                 "util.c:20:12: error: 'buf' undeclared (first use in this function)",
                 "make[1]: *** [Makefile:8: util.o] Error 1", "make: *** [Makefile:4: all] Error 2"]:
        assert fact in r.text, fact
    assert "gcc -O2" not in r.text and "Entering directory" not in r.text and "^~~" not in r.text
    assert ("util.c", 20, 12, "error") in {(d.file, d.line, d.column, d.severity) for d in r.diagnostics}


CMAKE_NINJA = """\
-- The C compiler identification is GNU 13.2.0
-- Detecting C compiler ABI info
-- Detecting C compiler ABI info - done
CMake Warning at CMakeLists.txt:5 (message):
  option FOO is deprecated

-- Configuring done (0.3s)
-- Generating done (0.0s)
[1/4] Building C object CMakeFiles/app.dir/main.c.o
[2/4] Building C object CMakeFiles/app.dir/io.c.o
FAILED: CMakeFiles/app.dir/io.c.o
/usr/bin/cc    -o CMakeFiles/app.dir/io.c.o -c /home/u/app/io.c
/home/u/app/io.c:3:10: fatal error: missing.h: No such file or directory
    3 | #include "missing.h"
      |          ^~~~~~~~~~~
compilation terminated.
ninja: build stopped: subcommand failed.
"""


def test_cmake_and_ninja():
    r = compress(CMAKE_NINJA, "cmake --build build", 1)
    for fact in ["CMake Warning at CMakeLists.txt:5 (message):", "option FOO is deprecated",
                 "FAILED: CMakeFiles/app.dir/io.c.o", "/home/u/app/io.c:3:10: fatal error: missing.h: No such file or directory",
                 "ninja: build stopped: subcommand failed."]:
        assert fact in r.text, fact
    assert "[1/4] Building" not in r.text and "Detecting C compiler" not in r.text
    assert "/usr/bin/cc" not in r.text


GO_VET = """\
go: downloading golang.org/x/tools v0.20.0
# example.com/app/internal/db
vet: internal/db/query.go:31:14: fmt.Sprintf format %d has arg name of wrong type string
# example.com/app
./main.go:12:2: printf: fmt.Printf call needs 1 arg but has 2 args
"""


def test_go_vet_keeps_every_finding_even_without_error_words():
    r = compress(GO_VET * 3, "go vet ./...", 1)
    assert "vet: internal/db/query.go:31:14: fmt.Sprintf format %d has arg name of wrong type string" in r.text
    assert "./main.go:12:2: printf: fmt.Printf call needs 1 arg but has 2 args" in r.text
    assert "go: downloading" not in r.text
