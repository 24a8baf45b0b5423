"""Rust tools on crates from Debian's packaged registry (librust-*-dev, offline):
rustfmt --check and a very verbose successful cargo build.

    python3 capture_rust.py [CASE ...]     # no argument: every case of this script
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from common import Case, capture, capture_all, fresh_dir

HERE = __file__
REGISTRY = Path("/usr/share/cargo/registry")  # apt-get install librust-regex-dev librust-itoa-dev
CARGO_CONFIG = f"""\
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "{REGISTRY}"
"""


def crate(name: str) -> Path:
    found = sorted(REGISTRY.glob(f"{name}-[0-9]*"))
    assert found, f"{name} is not in {REGISTRY}"
    return found[-1]


def rustfmt_check() -> Case:
    name = "48-rustfmt-check-regex-syntax"
    root = fresh_dir(name) / "regex-syntax"
    shutil.copytree(crate("regex-syntax"), root)
    (root / ".cargo-checksum.json").unlink(missing_ok=True)
    for rel in ("src/ast/print.rs", "src/hir/literal/mod.rs", "src/unicode.rs"):
        path = root / rel
        if path.exists():
            text = path.read_text()
            text = re.sub(r"\) -> ([\w:<>']+) \{", r")->\1{", text, count=6)
            text = text.replace("    ", "  ", 40)
            path.write_text(text)
    case = capture(
        name, "rustfmt --check --edition 2021 src/lib.rs", root, tool="rustfmt", kind="formatter diff", pty=True,
        source=f"{crate('regex-syntax').name} crate (Debian librust-regex-syntax-dev)",
        modification="three files with squeezed signatures and two-space indents, as a careless edit leaves them",
        facts_from="rustfmt's own 'Diff in FILE:LINE:' headers: the first of every file it would change",
        script=HERE,
    )
    files = {m.group(1) for m in re.finditer(r"Diff in (\S+?)(?::\d+| at line)", case.text)}
    for f in sorted(files):
        case.line_fact(f"Diff in {f}", why="file rustfmt would change")
    return case


MAIN_RS = """\
use regex::Regex;
use std::io::{self, BufRead};

fn main() {
    let re = Regex::new(r"(?P<level>ERROR|WARN)\\s+(?P<msg>.*)").expect("valid pattern");
    let mut counts = [0usize; 2];
    for line in io::stdin().lock().lines().map_while(Result::ok) {
        if let Some(caps) = re.captures(&line) {
            counts[(&caps["level"] == "WARN") as usize] += 1;
            println!("{}", &caps["msg"]);
        }
    }
    eprintln!("{} errors, {} warnings", itoa::Buffer::new().format(counts[0]), counts[1]);
}
"""


def cargo_build_verbose() -> Case:
    name = "49-cargo-build-vv-success"
    root = fresh_dir(name) / "logscan"
    (root / "src").mkdir(parents=True)
    (root / ".cargo").mkdir()
    (root / ".cargo/config.toml").write_text(CARGO_CONFIG)
    (root / "src/main.rs").write_text(MAIN_RS)
    (root / "Cargo.toml").write_text('[package]\nname = "logscan"\nversion = "0.1.0"\nedition = "2021"\n\n'
                                     '[dependencies]\nregex = { version = "1", default-features = false, features = ["std", "unicode"] }\n'
                                     'itoa = "1"\n')
    case = capture(
        name, "cargo build -vv --release", root, tool="cargo build", kind="long successful verbose build",
        pty=False, source="a 15-line tool written here on regex and itoa (Debian's packaged crates, offline)",
        modification="none: a clean very verbose build",
        facts_from="cargo's own Compiling/Finished lines (every crate compiled) and the final outcome", script=HERE,
    )
    for line in case.lines:
        if re.match(r"^\s*(Compiling|Finished) ", line):
            case.fact(line, why="crate compiled" if "Compiling" in line else "build outcome")
    return case


CASES: dict[str, Callable[[], Case]] = {"rustfmt": rustfmt_check, "cargo": cargo_build_verbose}


if __name__ == "__main__":
    capture_all(CASES, sys.argv[1:])
