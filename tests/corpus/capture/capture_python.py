"""Python tools: linters (pylint, ruff, flake8), a formatter (black), a type checker (pyright),
unittest, a chained traceback, pip's resolver, uv and tox, run on real PyPI sdists.

    python3 capture_python.py [CASE ...]     # no argument: every case of this script
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable

from common import (
    WORK,
    Case,
    capture,
    capture_all,
    edit,
    fresh_dir,
    pypi_sdist,
    sh,
    structured,
)

HERE = __file__


def pylint_requests() -> Case:
    name = "13-pylint-requests-severity-levels"
    root = pypi_sdist("requests", "2.32.3", name)
    # Two real mistakes an agent might make while editing, next to pylint's own findings.
    edit(root / "src/requests/sessions.py", "        return self.request(\"GET\", url, **kwargs)",
         "        return self.request(\"GET\", url, timeout=DEFAULT_TIMEOUT, **kwargs)")
    edit(root / "src/requests/models.py", "        self.hooks = default_hooks()", "        self.hooks = default_hook()")
    case = capture(
        name, "pylint src/requests", root, tool="pylint", kind="linter with severity levels", pty=False,
        source="requests 2.32.3 (PyPI sdist), its runtime dependencies installed",
        modification="2 injected bugs (undefined DEFAULT_TIMEOUT, misspelled default_hooks); the rest is pylint's real verdict",
        facts_from="pylint -f json2 (2nd run): every error and warning line; rating line", script=HERE,
    )
    report = json.loads(structured("pylint -f json2 src/requests", root))
    for msg in report["messages"]:
        if msg["type"] in ("error", "warning", "fatal"):
            loc = f"{msg['path']}:{msg['line']}:{msg['column']}: {msg['messageId']}: "
            case.line_fact(loc, msg["message"].splitlines()[0], why=f"pylint {msg['type']} ({msg['symbol']})")
    case.line_fact("Your code has been rated at", why="pylint score line")
    return case


def ruff_boltons() -> Case:
    name = "14-ruff-check-boltons-code-frames"
    root = pypi_sdist("boltons", "24.1.0", name)
    edit(root / "boltons/strutils.py", "import re\n", "import re\nimport os\n")
    targets = "boltons/iterutils.py boltons/strutils.py boltons/dictutils.py"
    rules = "E,F,B,UP"
    case = capture(
        name, f"ruff check --select {rules} {targets}", root, tool="ruff", kind="linter with code frames",
        pty=True, source="boltons 24.1.0 (PyPI sdist)", modification="1 injected unused import; rest is ruff's real verdict",
        facts_from="ruff --output-format json (2nd run): every diagnostic's code line and --> location; summary",
        script=HERE,
    )
    report = json.loads(structured(f"ruff check --select {rules} --output-format json {targets}", root))
    for d in report:
        rel = d["filename"].replace(str(root) + "/", "")
        loc = f"{rel}:{d['location']['row']}:{d['location']['column']}"
        case.line_fact("--> " + loc, why=f"location of {d['code']}")
        case.line_fact(f"{d['code']} ", d["message"], why="ruff diagnostic (code and message)")
    case.line_fact("Found ", " error", why="ruff summary count")
    return case


def flake8_dateutil() -> Case:
    name = "15-flake8-dateutil-many-locations"
    root = pypi_sdist("python-dateutil", "2.9.0.post0", name)
    case = capture(
        name, "flake8 src/dateutil", root, tool="flake8", kind="linter, one line per finding", pty=False,
        source="python-dateutil 2.9.0.post0 (PyPI sdist)", modification="none: flake8's real findings",
        facts_from="flake8's own path:line:col: CODE format (every finding)", script=HERE,
    )
    for line in case.lines:
        if re.match(r"src/dateutil/\S+:\d+:\d+: [A-Z]\d+ ", line):
            case.fact(line, why="flake8 finding with its location")
    return case


def black_dateutil() -> Case:
    name = "16-black-check-diff-dateutil"
    root = pypi_sdist("python-dateutil", "2.9.0.post0", name)
    case = capture(
        name, "black --check --diff src/dateutil/tz src/dateutil/zoneinfo", root, tool="black",
        kind="formatter diff interleaved with file names", pty=False,
        source="python-dateutil 2.9.0.post0 (PyPI sdist)", modification="none: the project is not black-formatted",
        facts_from="black's own 'would reformat' lines and summary", script=HERE,
    )
    for line in case.lines:
        if line.startswith("would reformat "):
            case.fact(line, why="file black would change")
    case.line_fact("files would be reformatted", why="black summary")
    return case


def pyright_boltons() -> Case:
    name = "17-pyright-boltons-type-errors"
    root = pypi_sdist("boltons", "24.1.0", name)
    targets = "boltons/cacheutils.py boltons/queueutils.py boltons/setutils.py boltons/urlutils.py"
    case = capture(
        name, f"pyright {targets}", root, tool="pyright", kind="type checker, file header + indented findings",
        pty=True, source="boltons 24.1.0 (PyPI sdist)", modification="none: pyright's real findings in basic mode",
        facts_from="pyright --outputjson (2nd run): every error and warning, located by path:line:col", script=HERE,
    )
    report = json.loads(structured(f"pyright --outputjson {targets}", root))
    for d in report["generalDiagnostics"]:
        if d["severity"] not in ("error", "warning"):
            continue
        rel = d["file"].replace(str(root) + "/", "")
        loc = f"{rel}:{d['range']['start']['line'] + 1}:{d['range']['start']['character'] + 1}"
        case.line_fact(loc, f"- {d['severity']}: ", d["message"].splitlines()[0], why=f"pyright {d['severity']}")
    s = report["summary"]
    case.line_fact(f"{s['errorCount']} error", why="pyright summary counts")
    return case


UNITTEST_REPORT = r"""
import json, sys, unittest
suite = unittest.defaultTestLoader.discover(sys.argv[1], top_level_dir='.')
result = unittest.TestResult()
suite.run(result)
print(json.dumps({"failures": [t.id() for t, _ in result.failures], "errors": [t.id() for t, _ in result.errors],
                  "run": result.testsRun}))
"""


def unittest_simplejson() -> Case:
    name = "18-unittest-simplejson-failures"
    root = pypi_sdist("simplejson", "3.19.3", name)
    edit(root / "simplejson/encoder.py", "'\\t': '\\\\t',", "'\\t': '\\\\T',")
    edit(root / "simplejson/decoder.py", "    'Infinity': PosInf,", "    'Infinity': NegInf,")
    env = {"DISABLE_SPEEDUPS": "1", "SIMPLEJSON_NO_SPEEDUPS": "1"}
    case = capture(
        name, "python -m unittest discover -v -t . -s simplejson/tests", root, tool="unittest", kind="test runner (Python unittest)",
        pty=False, env=env, source="simplejson 3.19.3 (PyPI sdist), pure-Python mode",
        modification="2 injected bugs (tab escape, Infinity sign)",
        facts_from="unittest TestResult (2nd run, JSON of failing ids) located in the FAIL:/ERROR: headers",
        script=HERE,
    )
    (root / "report_tests.py").write_text(UNITTEST_REPORT)
    report = json.loads(structured("python report_tests.py simplejson/tests", root, env))
    for kind, ids in (("FAIL", report["failures"]), ("ERROR", report["errors"])):
        for test_id in ids:
            method = test_id.rsplit(".", 1)[1]
            header = case.line_fact(f"{kind}: {method} (", test_id, why=f"failing test ({kind.lower()})")
            start = case.lines.index(header) + 2
            block = case.lines[start:]
            block = block[: next(i for i, ln in enumerate(block) if ln.startswith(("=====", "-----")))]
            raised = [ln for ln in block if re.match(r"^[\w.]*(?:Error|Exception)\b", ln)]
            case.fact(raised[-1], why=f"exception that failed {method}")
            frames = [ln for ln in block if "/tests/test_" in ln and ln.strip().startswith("File ")]
            case.fact(frames[0], why=f"test frame of {method}")
    case.line_fact(f"Ran {report['run']} tests", why="number of tests run")
    case.line_fact("FAILED (", why="unittest summary")
    return case


APP = '''\
"""Poll a service's health endpoint and print its status."""
import sys

import requests


def fetch_status(base_url: str) -> dict:
    response = requests.get(f"{base_url}/healthz", timeout=2)
    response.raise_for_status()
    return response.json()


def main() -> int:
    status = fetch_status(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:9")
    print(status["state"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def traceback_requests() -> Case:
    name = "19-python-traceback-chained-requests"
    root = fresh_dir(name) / "healthcheck"
    root.mkdir()
    (root / "healthcheck.py").write_text(APP)
    sh("python3 -m venv .venv && .venv/bin/pip install -q requests==2.32.3", cwd=root)
    case = capture(
        name, ".venv/bin/python healthcheck.py", root, tool="python", kind="traceback with chained exceptions",
        pty=False, source="a 20-line script calling requests 2.32.3 against a closed local port",
        modification="none: the real connection-refused chain (4 exceptions)",
        facts_from="Python's traceback format: project frames, their source lines, each exception line", script=HERE,
    )
    for line in case.lines:
        if line.startswith(("urllib3.", "requests.", "ConnectionRefusedError")):
            case.fact(line, why="exception in the chain")
        if "healthcheck.py" in line and line.strip().startswith("File "):
            case.fact(line, why="project frame")
    for source in ('status = fetch_status(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:9")',
                   'response = requests.get(f"{base_url}/healthz", timeout=2)'):
        case.fact(source, why="source line under a project frame")
    case.fact("During handling of the above exception, another exception occurred:", why="chain marker")
    return case


def pip_conflict() -> Case:
    name = "20-pip-install-resolution-impossible"
    root = fresh_dir(name) / "webapp"
    root.mkdir()
    (root / "requirements.txt").write_text("flask==3.0.3\nwerkzeug==2.3.8\nrequests==2.32.3\nitsdangerous>=2.0\n")
    sh("python3 -m venv .venv", cwd=root)
    case = capture(
        name, ".venv/bin/pip install -r requirements.txt", root, tool="pip", kind="package manager resolver conflict",
        pty=True, source="a requirements.txt pinning flask 3.0.3 with werkzeug 2.3.8, into a fresh venv",
        modification="the pins clash: flask 3.0.3 depends on Werkzeug>=3.0.0",
        facts_from="pip's ERROR lines and its 'The conflict is caused by' block", script=HERE,
    )
    for line in case.lines:
        if line.startswith("ERROR:"):
            case.fact(line, why="pip error")
    start = case.lines.index(case.line("The conflict is caused by:"))
    case.fact(case.lines[start], why="resolver explanation header")
    for line in case.lines[start + 1:]:
        if not line.strip():
            break
        case.fact(line, why="clashing requirement")
    return case


def uv_install() -> Case:
    name = "21-uv-pip-install-added-packages"
    root = fresh_dir(name) / "api"
    root.mkdir()
    cache = WORK / "uv-cache"
    sh(f"rm -rf {cache} && uv venv -q .venv", cwd=root)
    env = {"UV_CACHE_DIR": str(cache), "VIRTUAL_ENV": str(root / ".venv")}
    cmd = "uv pip install fastapi==0.115.5 uvicorn==0.32.1 httpx==0.27.2 rich==13.9.4"
    case = capture(
        name, cmd, root, tool="uv", kind="package manager, list of added packages", pty=True, env=env,
        source="a fresh venv, empty cache", modification="none: a successful install",
        facts_from="uv pip list --format json (2nd run): every installed name==version, located in its '+' line",
        script=HERE,
    )
    for pkg in json.loads(structured("uv pip list --format json", root, env)):
        case.line_fact("+ ", f"{pkg['name'].lower()}=={pkg['version']}", why="package added")
    case.line_fact("Installed ", " packages in ", why="uv summary")
    return case


def tox_cachetools() -> Case:
    name = "22-tox-cachetools-multi-env"
    root = pypi_sdist("cachetools", "5.5.0", name)
    init = root / "src/cachetools/__init__.py"
    edit(init, "            key = next(iter(self.__order))\n        except StopIteration:\n            raise KeyError(\"%s is empty\" % type(self).__name__) from None\n        else:\n            return (key, self.pop(key))\n\n    def __update",
         "            key = next(reversed(self.__order))\n        except StopIteration:\n            raise KeyError(\"%s is empty\" % type(self).__name__) from None\n        else:\n            return (key, self.pop(key))\n\n    def __update")
    edit(init, "import random\n", "import random\nimport sys\n")
    cmd = "tox -e flake8,doctest,py"
    case = capture(
        name, cmd, root, tool="tox", kind="multi-environment runner", pty=True,
        source="cachetools 5.5.0 (PyPI sdist) and its own tox.ini",
        modification="2 injected bugs (LRU evicts the most recent key; unused import)",
        facts_from="tox's final per-environment rows; flake8's path:line:col findings; pytest's FAILED lines; doctest's File lines",
        script=HERE,
    )
    for line in case.lines:
        if re.match(r"^\s+[\w-]+: (OK|FAIL|SKIP)\b", line) or re.match(r"^\./src/\S+:\d+:\d+: ", line):
            case.fact(line, why="per-environment status" if ": " in line[:20] else "flake8 finding")
        if line.startswith("FAILED tests/"):
            case.fact(line, why="failing test (pytest short summary)")
        if line.startswith('File "index.rst", line '):
            case.fact(line, why="failing doctest example (sphinx doctest)")
    case.line_fact(" passed and ", " failed.", why="sphinx doctest counts")
    case.line_fact("evaluation failed", why="tox verdict")
    return case


CASES: dict[str, Callable[[], Case]] = {
    "pylint": pylint_requests,
    "ruff": ruff_boltons,
    "flake8": flake8_dateutil,
    "black": black_dateutil,
    "pyright": pyright_boltons,
    "unittest": unittest_simplejson,
    "traceback": traceback_requests,
    "pip": pip_conflict,
    "uv": uv_install,
    "tox": tox_cachetools,
}


if __name__ == "__main__":
    capture_all(CASES, sys.argv[1:])
