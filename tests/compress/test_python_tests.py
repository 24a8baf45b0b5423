from ai_session.core.compress import compress

from .helpers import assert_faithful

PYTEST_TB_SHORT = """\
============================= test session starts ==============================
platform linux -- Python 3.12.1, pytest-8.0.0, pluggy-1.4.0
rootdir: /home/u/proj
collected 42 items

tests/test_api.py ....F.....                                             [ 23%]
tests/test_models.py ..........s.......                                  [ 66%]
tests/test_util.py ...........E..                                        [100%]

==================================== ERRORS ====================================
_____________________ ERROR at setup of test_needs_db __________________________
tests/test_util.py:88: in db
    conn = connect(url)
src/proj/db.py:14: in connect
    raise ConnectionError(f"cannot reach {url}")
E   ConnectionError: cannot reach postgres://localhost/test
=================================== FAILURES ===================================
_______________________________ test_get_user __________________________________
tests/test_api.py:31: in test_get_user
    assert resp.status_code == 200
E   assert 404 == 200
E    +  where 404 = <Response [404]>.status_code
----------------------------- Captured stdout call -----------------------------
GET /users/7
=========================== short test summary info ============================
FAILED tests/test_api.py::test_get_user - assert 404 == 200
ERROR tests/test_util.py::test_needs_db - ConnectionError: cannot reach postgres://localhost/test
============== 1 failed, 39 passed, 1 skipped, 1 error in 2.31s ===============
"""


def test_pytest_tb_short_keeps_failures_errors_and_counts():
    r = compress(PYTEST_TB_SHORT, "pytest --tb=short", 1)
    assert r.tool == "pytest"
    for fact in ["tests/test_util.py:88: in db", "E   ConnectionError: cannot reach postgres://localhost/test",
                 "tests/test_api.py:31: in test_get_user", "E   assert 404 == 200",
                 "    assert resp.status_code == 200", "FAILED tests/test_api.py::test_get_user - assert 404 == 200",
                 "ERROR tests/test_util.py::test_needs_db", "1 failed, 39 passed, 1 skipped, 1 error in 2.31s",
                 "[ai-session] exit 1"]:
        assert fact in r.text, fact
    assert "platform linux" not in r.text and "....F" not in r.text
    assert_faithful(PYTEST_TB_SHORT, r)
    assert any(d.file == "tests/test_api.py" and d.line == 31 for d in r.diagnostics)


PYTEST_RA_LINE = """\
............................................F......................... [ 50%]
.........................................................................[100%]
=================================== FAILURES ===================================
/home/u/proj/tests/test_calc.py:12: assert 3 == 4
==================================== PASSES ====================================
___________________________________ test_ok ____________________________________
----------------------------- Captured stdout call -----------------------------
hello
=========================== short test summary info ============================
PASSED tests/test_calc.py::test_ok
PASSED tests/test_calc.py::test_ok2
SKIPPED [1] tests/test_calc.py:40: needs gpu
FAILED tests/test_calc.py::test_add - assert 3 == 4
1 failed, 143 passed, 1 skipped in 0.52s
"""


def test_pytest_quiet_ra_and_tb_line_drop_passes_keep_failure():
    r = compress(PYTEST_RA_LINE, "python -m pytest -q -rA --tb=line", 1)
    assert "/home/u/proj/tests/test_calc.py:12: assert 3 == 4" in r.text
    assert "FAILED tests/test_calc.py::test_add - assert 3 == 4" in r.text
    assert "1 failed, 143 passed, 1 skipped in 0.52s" in r.text
    assert "PASSED tests/test_calc.py::test_ok" not in r.text and "hello" not in r.text


PYTEST_NATIVE = """\
============================= test session starts ==============================
collected 3 items

test_x.py::test_a PASSED                                                 [ 33%]
test_x.py::test_b FAILED                                                 [ 66%]
test_x.py::test_c PASSED                                                 [100%]

=================================== FAILURES ===================================
____________________________________ test_b ____________________________________
Traceback (most recent call last):
  File "/home/u/p/test_x.py", line 9, in test_b
    parse("x")
  File "/home/u/venv/lib/python3.12/site-packages/lib/core.py", line 40, in parse
    return _inner(s)
  File "/home/u/p/src/mod.py", line 77, in _inner
    raise ValueError(f"bad token {s!r}")
ValueError: bad token 'x'
=========================== short test summary info ============================
FAILED test_x.py::test_b - ValueError: bad token 'x'
========================= 1 failed, 2 passed in 0.10s ==========================
"""


def test_pytest_verbose_native_traceback_keeps_own_frames_and_exception():
    r = compress(PYTEST_NATIVE, "pytest -v --tb=native", 1)
    assert 'File "/home/u/p/test_x.py", line 9, in test_b' in r.text
    assert 'File "/home/u/p/src/mod.py", line 77, in _inner' in r.text
    assert "ValueError: bad token 'x'" in r.text
    assert "site-packages" not in r.text
    assert "test_x.py::test_a PASSED" not in r.text
    assert "1 failed, 2 passed in 0.10s" in r.text


UNITTEST = """\
test_add (test_calc.CalcTest.test_add) ... ok
test_div (test_calc.CalcTest.test_div) ... ERROR
test_sub (test_calc.CalcTest.test_sub) ... FAIL
test_mul (test_calc.CalcTest.test_mul) ... skipped 'later'

======================================================================
ERROR: test_div (test_calc.CalcTest.test_div)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/home/u/p/test_calc.py", line 12, in test_div
    self.assertEqual(div(1, 0), 0)
                     ^^^^^^^^^
  File "/home/u/p/calc.py", line 8, in div
    return a / b
           ~~^~~
ZeroDivisionError: division by zero

======================================================================
FAIL: test_sub (test_calc.CalcTest.test_sub)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/home/u/p/test_calc.py", line 9, in test_sub
    self.assertEqual(sub(3, 1), 3)
AssertionError: 2 != 3

----------------------------------------------------------------------
Ran 4 tests in 0.002s

FAILED (failures=1, errors=1, skipped=1)
"""


def test_unittest_verbose():
    r = compress(UNITTEST, "python -m unittest -v", 1)
    assert r.tool == "unittest"
    for fact in ["ERROR: test_div (test_calc.CalcTest.test_div)", "ZeroDivisionError: division by zero",
                 'File "/home/u/p/calc.py", line 8, in div', "    return a / b", "AssertionError: 2 != 3",
                 "Ran 4 tests in 0.002s", "FAILED (failures=1, errors=1, skipped=1)"]:
        assert fact in r.text, fact
    assert "... ok" not in r.text and "^^^^" not in r.text
    assert_faithful(UNITTEST, r)


def test_make_running_pytest_is_recognised_from_the_output():
    raw = PYTEST_TB_SHORT + "make: *** [Makefile:12: test] Error 1\n"
    r = compress(raw, "make test", 2)
    assert r.tool == "pytest"
    assert "make: *** [Makefile:12: test] Error 1" in r.text
