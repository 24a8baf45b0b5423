from ai_session.core.compress import compress

from .helpers import assert_faithful

JEST_VERBOSE = """\
 PASS  src/utils.test.ts
  utils
    ✓ formats dates (3 ms)
    ✓ parses ids (1 ms)
 FAIL  src/cart.test.ts
  cart
    ✓ adds items (2 ms)
    ✕ computes total (5 ms)
    ○ skipped applies coupon

  ● cart › computes total

    expect(received).toBe(expected) // Object.is equality

    Expected: 30
    Received: 25

      12 |   cart.add({ price: 10 }, 3);
      13 |   cart.add({ price: 5 }, -1);
    > 14 |   expect(cart.total()).toBe(30);
         |                        ^
      15 | });

      at Object.<anonymous> (src/cart.test.ts:14:24)
      at Promise.then.completed (node_modules/jest-circus/build/utils.js:298:28)

  ● Console

    console.log
      debug total 25

      at Object.<anonymous> (src/cart.test.ts:11:11)

Test Suites: 1 failed, 1 passed, 2 total
Tests:       1 failed, 1 skipped, 3 passed, 5 total
Snapshots:   0 total
Time:        1.234 s
Ran all test suites.
"""


def test_jest_verbose_keeps_failure_and_summary_drops_passes_and_frames():
    r = compress(JEST_VERBOSE, "npx jest --verbose", 1)
    assert r.tool == "js_tests"
    for fact in ["FAIL  src/cart.test.ts", "✕ computes total (5 ms)", "● cart › computes total",
                 "expect(received).toBe(expected) // Object.is equality", "Expected: 30", "Received: 25",
                 "src/cart.test.ts:14:24", "Tests:       1 failed, 1 skipped, 3 passed, 5 total"]:
        assert fact in r.text, fact
    for noise in ["✓ formats dates", "jest-circus", "debug total 25", "13 |   cart.add"]:
        assert noise not in r.text, noise
    assert_faithful(JEST_VERBOSE, r)
    assert [(d.file, d.line, d.column) for d in r.diagnostics] == [("src/cart.test.ts", 14, 24)]


VITEST = """\
 ✓ src/a.test.ts (4 tests) 3ms
 ❯ src/b.test.ts (2 tests | 1 failed) 6ms
   × sums > adds negatives 4ms
     → expected -1 to be 1 // Object.is equality

⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯

 FAIL  src/b.test.ts > sums > adds negatives
AssertionError: expected -1 to be 1 // Object.is equality

- Expected
+ Received

- 1
+ -1

 ❯ src/b.test.ts:9:22
      7|   it('adds negatives', () => {
      8|     const r = add(-2, 1)
      9|     expect(r).toBe(1)
       |                      ^
     10|   })

⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[1/1]⎯

 Test Files  1 failed | 1 passed (2)
      Tests  1 failed | 5 passed (6)
   Start at  10:00:00
   Duration  420ms (transform 30ms, setup 0ms, collect 40ms, tests 9ms)
"""


def test_vitest():
    r = compress(VITEST, "npx vitest run", 1)
    for fact in ["FAIL  src/b.test.ts > sums > adds negatives", "AssertionError: expected -1 to be 1",
                 "❯ src/b.test.ts:9:22", "Test Files  1 failed | 1 passed (2)", "Tests  1 failed | 5 passed (6)"]:
        assert fact in r.text, fact
    assert "src/a.test.ts (4 tests)" not in r.text
    assert "const r = add" not in r.text
    assert_faithful(VITEST, r)


MOCHA = """\

  Array
    #indexOf()
      ✔ should return -1 when not present
      1) should return the index

  1 passing (9ms)
  1 failing

  1) Array
       #indexOf()
         should return the index:

      AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:

2 !== 1

      + expected - actual

      -2
      +1

      at Context.<anonymous> (test/array.spec.js:9:14)
      at process.processImmediate (node:internal/timers:476:21)

"""


def test_mocha():
    r = compress(MOCHA, "npx mocha", 1)
    for fact in ["1) should return the index", "1 passing (9ms)", "1 failing",
                 "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:", "test/array.spec.js:9:14",
                 "      -2", "      +1"]:
        assert fact in r.text, fact
    assert "should return -1 when not present" not in r.text
    assert "node:internal" not in r.text
