"""Tools run on Debian source packages (apt-get source): apt itself, shellcheck, cppcheck,
cmake + make, ctest, meson + ninja, rspec, rubocop, prove, gofmt, javac, JUnit.

    python3 capture_debian.py [CASE ...]     # no argument: every case of this script
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from common import (
    WORK,
    Case,
    capture,
    capture_all,
    debian_binary,
    debian_source,
    edit,
    fresh_dir,
    sh,
    structured,
)

HERE = __file__


APT_PACKAGES = "meson ripgrep jq tree cloc"


def apt_install() -> Case:
    name = "32-apt-get-install-meson-ripgrep"
    root = fresh_dir(name)
    # Only the archive's own source lists, so the log shows what a stock machine prints.
    parts = WORK / "apt-sources"
    sh(f"rm -rf {parts} && mkdir -p {parts} && cp /etc/apt/sources.list.d/*.sources {parts}/")
    opt = f"-o Dir::Etc::SourceParts={parts}"
    sh(f"apt-get {opt} remove -y -qq {APT_PACKAGES} >/dev/null 2>&1; apt-get {opt} autoremove -y -qq >/dev/null 2>&1; true")
    plan = structured(f"apt-get {opt} install -s --no-install-recommends {APT_PACKAGES}", root)
    case = capture(
        name, f"apt-get {opt} install -y --no-install-recommends {APT_PACKAGES}", root, tool="apt-get",
        kind="system package manager, long successful log", pty=True, env={"DEBIAN_FRONTEND": "noninteractive"},
        shown_cmd=f"apt-get install -y --no-install-recommends {APT_PACKAGES}",
        source="Debian 12 (bookworm) archive", modification="none: a real install",
        facts_from="apt-get install -s (simulation run first): every package to install, located in its "
                   "'Setting up' line; apt's summary", script=HERE,
    )
    for pkg_name, version in re.findall(r"^Inst (\S+) \((\S+)", plan, re.MULTILINE):
        qualified = f"Setting up {pkg_name}:" if f"Setting up {pkg_name}:" in case.text else f"Setting up {pkg_name} "
        case.line_fact(qualified, f"({version})", why="package installed")
    case.line_fact("newly installed", why="apt summary counts")
    return case


def shellcheck_git_extras() -> Case:
    name = "33-shellcheck-git-extras-levels"
    root = debian_binary("git-extras", name) / "usr/bin"
    edit(root / "git-summary", 'if [ -n "$MERGES_ARG" ] && [', 'if [ -n "$MERGES_ARG"] && [')
    scripts = "git-bulk git-changelog git-delete-branch git-effort git-release git-summary"
    case = capture(
        name, f"shellcheck {scripts}", root, tool="shellcheck", kind="linter, 'In FILE line N:' blocks", pty=True,
        source="git-extras 6.5.0 (scripts from the Debian package)",
        modification="1 injected syntax error (missing space before ]); the rest is shellcheck's real verdict",
        facts_from="shellcheck -f json (2nd run): every error and warning, its 'In FILE line N:' header and SC line",
        script=HERE,
    )
    for item in json.loads(structured(f"shellcheck -f json {scripts}", root)):
        if item["level"] in ("error", "warning"):
            case.line_fact(f"In {item['file']} line {item['line']}:", why=f"location of SC{item['code']}")
            case.line_fact(f"SC{item['code']} ({item['level']}): {item['message'][:60]}", why="shellcheck finding")
    return case


def cppcheck_libyaml() -> Case:
    name = "34-cppcheck-libyaml"
    root = debian_source("libyaml", name)
    edit(root / "src/api.c", "            yaml_free(token->data.scalar.value);\n",
         "            yaml_free(token->data.scalar.value);\n            yaml_free(token->data.scalar.value);\n")
    edit(root / "src/scanner.c", "    yaml_char_t *suffix = NULL;\n    yaml_mark_t start_mark, end_mark;\n",
         "    yaml_char_t *suffix = NULL;\n    yaml_mark_t start_mark, end_mark;\n    char kind[8];\n    kind[8] = '\\0';\n")
    cmd = "cppcheck --enable=warning,style,performance,portability --max-configs=1 -Iinclude src"
    case = capture(
        name, cmd, root, tool="cppcheck", kind="static analyser with severities", pty=False,
        source="libyaml 0.2.5 (Debian source package)",
        modification="2 injected bugs (double free, write past a stack array): cppcheck reports the second; "
                     "the rest is its real verdict",
        facts_from="cppcheck --xml (2nd run): every error and warning, located by file:line:col: severity", script=HERE,
    )
    xml = structured(cmd + " --xml 2>&1 >/dev/null", root)
    for err in ET.fromstring(xml[xml.index("<?xml"):]).iter("error"):
        loc = err.find("location")
        if err.get("severity") in ("error", "warning") and loc is not None:
            case.line_fact(f"{loc.get('file')}:{loc.get('line')}:{loc.get('column')}: {err.get('severity')}:",
                           f"[{err.get('id')}]", why=f"cppcheck {err.get('severity')}")
    return case


def json_c(name: str) -> Path:
    return debian_source("json-c", name)


def cmake_make_verbose() -> Case:
    name = "35-cmake-make-verbose-json-c"
    root = json_c(name)
    cmd = "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && make -C build VERBOSE=1"
    case = capture(
        name, cmd, root, tool="cmake+make", kind="long successful verbose build", pty=False,
        source="json-c 0.16 (Debian source package)", modification="none: a clean verbose build",
        facts_from="cmake's configure outcome lines; make's 'Built target' line of every target; compiler warnings",
        script=HERE,
    )
    case.line_fact("-- Build files have been written to:", why="cmake configure outcome")
    case.line_fact("-- Configuring done", why="cmake configure outcome")
    for line in case.lines:
        if re.match(r"\[\s*\d+%\] Built target ", line):
            case.fact(line, why="target built")
        elif re.search(r": warning: ", line):
            case.fact(line, why="compiler warning")
    return case


def ctest_json_c() -> Case:
    name = "36-ctest-json-c-failures"
    root = json_c(name)
    edit(root / "json_object.c", "\tcase json_type_boolean: return JC_BOOL_C(jso)->c_boolean;",
         "\tcase json_type_boolean: return !JC_BOOL_C(jso)->c_boolean;")
    edit(root / "json_object.c", 'const char *std_format = "%.17g";', 'const char *std_format = "%.15g";')
    sh("cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && make -C build -j2 >/dev/null", cwd=root)
    case = capture(
        name, "ctest --test-dir build --output-on-failure", root, tool="ctest", kind="test runner (CTest)", pty=False,
        source="json-c 0.16 (Debian source package)",
        modification="2 injected bugs (booleans read as integers are inverted, doubles printed with 15 digits); "
                     "the suite catches the first",
        facts_from="ctest --output-junit (2nd run): every failed test, located in the FAILED list; summary", script=HERE,
    )
    junit = root / "build" / "junit.xml"
    structured(f"ctest --test-dir build --output-junit {junit}", root)
    for tc in ET.parse(junit).getroot().iter("testcase"):
        if tc.get("status") == "fail" or tc.find("failure") is not None:
            case.line_fact(f" - {tc.get('name')} (Failed)", why="failed test (ctest junit)")
            case.line_fact(f": {tc.get('name')} ", "***Failed", why="failed test's progress line")
            case.line_fact(f'ERROR: "{tc.get("name")} ', why="failed test's error line")
    case.line_fact("tests passed, ", why="ctest summary")
    case.line_fact("The following tests FAILED:", why="ctest failure list header")
    return case


def meson_fribidi() -> Case:
    name = "37-meson-ninja-compile-error"
    root = debian_source("fribidi", name)
    edit(root / "lib/fribidi-brackets.c", "  return bracket_type;\n}", "  return bracket_typ;\n}")
    edit(root / "lib/fribidi-mirroring.c", "  register FriBidiChar result;", "  register FriBidiChar result;\n  int depth;")
    cmd = "meson setup build -Dwarning_level=3 -Ddocs=false && ninja -C build"
    case = capture(
        name, cmd, root, tool="meson+ninja", kind="build system with compiler errors", pty=True,
        source="GNU FriBidi 1.0.8 (Debian source package)",
        modification="2 injected bugs (misspelled return variable, unused variable)",
        facts_from="gcc's file:line:col diagnostics and ninja's FAILED/stopped lines", script=HERE,
    )
    for line in case.lines:
        if re.match(r"^\.\./\S+:\d+:\d+: (error|warning): ", line):
            case.fact(line, why="compiler diagnostic with location")
        elif line.startswith(("FAILED: ", "ninja: build stopped")):
            case.fact(line, why="ninja outcome")
    case.line_fact("Build targets in project:", why="meson configure outcome")
    return case


def rspec_hashie() -> Case:
    name = "38-rspec-hashie-failures"
    root = debian_source("ruby-hashie", name)
    edit(root / "lib/hashie/extensions/deep_merge.rb", "yield(k, hash[k], v)", "yield(k, v, hash[k])")
    edit(root / "lib/hashie/mash.rb", "    def key?(key)\n      super(convert_key(key))", "    def key?(key)\n      super(key)")
    case = capture(
        name, "rspec spec/hashie", root, tool="rspec", kind="test runner (RSpec)", pty=True,
        source="hashie 5.0.0 (Debian source package ruby-hashie)",
        modification="2 injected bugs (deep_merge block gets old/new swapped, Mash#key? stops converting keys)",
        facts_from="rspec --format json (2nd run): every failed example's rerun line and first message line; summary",
        script=HERE,
    )
    structured("rspec spec/hashie --format json --out rspec.json", root)  # its logger also writes to stdout
    report = json.loads((root / "rspec.json").read_text())
    for ex in report["examples"]:
        if ex["status"] == "failed":
            case.line_fact(f"rspec {ex['file_path']}:{ex['line_number']} ", why="rerun line of a failed example")
            first = next(ln.strip() for ln in ex["exception"]["message"].splitlines() if ln.strip())
            case.line_fact(first, why="failure message")
    s = report["summary"]
    case.line_fact(f"{s['example_count']} examples, {s['failure_count']} failures", why="rspec summary")
    return case


def rubocop_hashie() -> Case:
    name = "39-rubocop-hashie-offenses"
    root = debian_source("ruby-hashie", name)
    edit(root / "lib/hashie/extensions/deep_merge.rb", "      def deep_merge!(other_hash, &block)\n",
         "      def deep_merge!(other_hash, &block)\n        result = nil\n")
    edit(root / "lib/hashie/extensions/deep_merge.rb", "        return self unless other_hash.is_a?(::Hash)",
         "        return self if other_hash = nil\n        return self unless other_hash.is_a?(::Hash)")
    cmd = "rubocop --force-default-config lib"
    case = capture(
        name, cmd, root, tool="rubocop", kind="linter with severity letters (C/W/E)", pty=True,
        source="hashie 5.0.0 (Debian source package ruby-hashie), RuboCop's default config",
        modification="2 injected bugs (useless assignment, assignment in condition)",
        facts_from="rubocop --format json (2nd run): every warning, error and fatal offense, located by path:line:col",
        script=HERE,
    )
    report = json.loads(structured(cmd + " --format json", root))
    for f in report["files"]:
        for o in f["offenses"]:
            if o["severity"] in ("warning", "error", "fatal"):
                loc = o["location"]
                case.line_fact(f"{f['path']}:{loc['start_line']}:{loc['start_column']}: {o['severity'][0].upper()}: ",
                               o["cop_name"], why=f"rubocop {o['severity']}")
    s = report["summary"]
    case.line_fact(f"{s['inspected_file_count']} files inspected, {s['offense_count']} offenses detected",
                   why="rubocop summary")
    return case


def prove_try_tiny() -> Case:
    name = "40-prove-try-tiny-failures"
    root = debian_source("libtry-tiny-perl", name)
    edit(root / "lib/Try/Tiny.pm", "  # at this point $failed contains a true value if the eval died", "  $failed = 0 if $failed && $error eq '';\n  # at this point $failed contains a true value if the eval died")
    edit(root / "lib/Try/Tiny.pm", "    push @$_, $error for @{$_finally_guards{guards}};",
         "    push @$_, $@ for @{$_finally_guards{guards}};")
    case = capture(
        name, "prove -lv t", root, tool="prove", kind="test runner (Perl TAP)", pty=True,
        source="Try::Tiny 0.31 (Debian source package libtry-tiny-perl)",
        modification="2 injected bugs (an empty error no longer counts as failure, finally blocks get $@ not the error); "
                     "the suite catches the second",
        facts_from="TAP: every 'not ok' line and its diagnostics (file and line); prove's summary", script=HERE,
    )
    for line in case.lines:
        if line.startswith("not ok "):
            case.fact(line, why="failed TAP test")
        if re.match(r"^#\s+at t/\S+ line \d+\.", line.strip()):
            case.fact(line, why="location of a failed test")
        if re.match(r"^t/\S+\.t\s+\(Wstat: ", line):
            case.fact(line, why="failing test file (prove summary)")
        if line.strip().startswith("Failed tests:"):
            case.fact(line, why="failed test numbers (prove summary)")
    case.line_fact("Result: FAIL", why="prove verdict")
    case.line_fact("Files=", "Tests=", why="prove totals")
    return case


def gofmt_pkg_errors() -> Case:
    name = "41-gofmt-diff-pkg-errors"
    root = debian_source("golang-github-pkg-errors", name)
    for f in ("errors.go", "stack.go"):
        text = (root / f).read_text()
        (root / f).write_text(text.replace("\t", "    ").replace("){\n", ") {\n").replace(" := ", ":="))
    case = capture(
        name, "gofmt -d .", root, tool="gofmt", kind="formatter diff", pty=False,
        source="github.com/pkg/errors 0.9.1 (Debian source package)",
        modification="two files re-indented with spaces and operators squeezed, as an editor without gofmt would",
        facts_from="gofmt -l (2nd run): every file, located in its diff header", script=HERE,
    )
    for path in structured("gofmt -l .", root).split():
        case.line_fact(f"diff {path.removeprefix('./')}.orig ", why="file gofmt would change")
    return case


JAVA_CP = "/usr/share/java/junit4.jar:/usr/share/java/hamcrest.jar:/usr/share/java/commons-lang3.jar"
CODEC = "src/main/java/org/apache/commons/codec"


def javac_commons_codec() -> Case:
    name = "42-javac-commons-codec-errors"
    root = debian_source("libcommons-codec-java", name)
    edit(root / CODEC / "binary/Hex.java", "        if ((len & 0x01) != 0) {\n            throw new DecoderException",
         "        if ((length & 0x01) != 0) {\n            throw new DecoderException")
    edit(root / CODEC / "binary/Hex.java", "        return new String(encodeHex(data));",
         "        return encodeHex(data);")
    edit(root / CODEC / "binary/Hex.java",
         "    public static int decodeHex(final char[] data, final byte[] out, final int outOffset) throws DecoderException {",
         "    public static int decodeHex(final char[] data, final byte[] out, final int outOffset) {")
    cmd = "javac -Xlint:all -d build/classes $(find src/main/java -name '*.java')"
    case = capture(
        name, cmd, root, tool="javac", kind="compiler errors with symbol/location blocks", pty=False,
        source="Apache Commons Codec 1.15 (Debian source package libcommons-codec-java)",
        modification="3 injected bugs (misspelled local, char[] returned as String, dropped throws clause); javac "
                     "reports the first two: the check that would report the third does not run after them",
        facts_from="javac's own FILE:LINE: error: format, the 'symbol:'/'location:' lines under it; totals", script=HERE,
    )
    for i, line in enumerate(case.lines):
        if re.match(r"^src/\S+\.java:\d+: warning: ", line):
            case.fact(line, why="javac lint warning with its location")
        if re.match(r"^src/\S+\.java:\d+: error: ", line):
            case.fact(line, why="javac error with its location")
            for below in case.lines[i + 1:i + 6]:
                if below.strip().startswith(("symbol:", "location:")):
                    case.fact(below, why="what javac could not find, and where")
    for line in case.lines:
        if re.fullmatch(r"\d+ (errors?|warnings?)", line):
            case.fact(line, why="javac totals")
    return case


def junit_commons_codec() -> Case:
    name = "43-junit4-commons-codec-failures"
    root = debian_source("libcommons-codec-java", name)
    edit(root / CODEC / "language/Soundex.java", '"01230120022455012623010202"', '"01230120022455012623010222"')
    edit(root / CODEC / "binary/BaseNCodec.java", "MIME_CHUNK_SIZE = 76;", "MIME_CHUNK_SIZE = 72;")
    sh(f"javac -nowarn -d build/classes $(find src/main/java -name '*.java') && "
       f"javac -nowarn -cp build/classes:{JAVA_CP} -d build/test-classes $(find src/test/java -name '*.java') && "
       "cp -r src/test/resources/. build/test-classes/ 2>/dev/null; true", cwd=root)
    tests = root / "src/test/java"
    classes = sorted(
        str(p.relative_to(tests)).removesuffix(".java").replace("/", ".")
        for p in (tests / "org/apache/commons/codec").glob("[bl]*/*Test.java")
        if "abstract class" not in p.read_text()
    )
    cmd = f"java -cp build/classes:build/test-classes:{JAVA_CP} org.junit.runner.JUnitCore " + " ".join(classes)
    case = capture(
        name, cmd, root, tool="junit4", kind="test runner (JUnit 4, Java stack traces)", pty=False,
        shown_cmd=cmd.replace(" org.apache.commons.codec.", " org.apache.commons.codec.", 1),
        source="Apache Commons Codec 1.15 (Debian source package), junit4 4.13.2, binary/ and language/ tests",
        modification="2 injected bugs (Soundex mapping of Z, MIME line length)",
        facts_from="JUnitCore's numbered failure headers, their message line and the test's own frame; totals",
        script=HERE,
    )
    for i, line in enumerate(case.lines):
        m = re.match(r"^\d+\) (\w+)\(([\w.$]+)\)$", line)
        if m:
            case.fact(line, why="failed test")
            case.fact(case.lines[i + 1], why="failure message")
            cls = m.group(2).rsplit(".", 1)[1]
            frame = next((ln for ln in case.lines[i + 1:i + 60] if f"({cls}.java:" in ln), None)
            if frame:
                case.fact(frame, why="the test's own frame")
    case.line_fact("Tests run: ", "Failures: ", why="JUnit totals")
    return case


def clang_tidy_libyaml() -> Case:
    name = "51-clang-tidy-libyaml-analyzer"
    root = debian_source("libyaml", name)
    edit(root / "src/api.c", "            yaml_free(token->data.scalar.value);\n",
         "            yaml_free(token->data.scalar.value);\n            yaml_free(token->data.scalar.value);\n")
    defines = "-DYAML_VERSION_MAJOR=0 -DYAML_VERSION_MINOR=2 -DYAML_VERSION_PATCH=5 '-DYAML_VERSION_STRING=\"0.2.5\"'"
    cmd = f"clang-tidy -checks='-*,clang-analyzer-*,bugprone-*' src/api.c src/dumper.c -- -Iinclude {defines}"
    case = capture(
        name, cmd, root, tool="clang-tidy", kind="static analyser with note chains", pty=False,
        source="libyaml 0.2.5 (Debian source package), clang-tidy 14",
        modification="1 injected bug (a token's scalar value freed twice)",
        facts_from="clang-tidy's own path:line:col: warning: ... [check] lines (every warning); its totals", script=HERE,
    )
    for line in case.lines:
        if re.match(r"^/\S+:\d+:\d+: (warning|error): .* \[[\w.,-]+\]$", line):
            case.fact(line, why="clang-tidy finding with its location")
        elif re.fullmatch(r"\d+ warnings? generated\.|Suppressed \d+ warnings .*", line):
            case.fact(line, why="clang-tidy totals")
    return case


CASES: dict[str, Callable[[], Case]] = {
    "apt": apt_install,
    "shellcheck": shellcheck_git_extras,
    "cppcheck": cppcheck_libyaml,
    "cmake": cmake_make_verbose,
    "ctest": ctest_json_c,
    "meson": meson_fribidi,
    "rspec": rspec_hashie,
    "rubocop": rubocop_hashie,
    "prove": prove_try_tiny,
    "gofmt": gofmt_pkg_errors,
    "javac": javac_commons_codec,
    "junit": junit_commons_codec,
    "clang-tidy": clang_tidy_libyaml,
}


if __name__ == "__main__":
    capture_all(CASES, sys.argv[1:])
