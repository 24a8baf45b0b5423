"""Helpers shared by the capture scripts: fetch real sources, run a real tool (through a pipe
or in a pseudo-terminal), scrub the machine's paths, locate facts in the raw text and write a
case folder in the shared corpus format (cmd.txt, raw.txt, exit_code.txt, facts.json) plus
its manifest entry.

The scripts need network access to the package registries and the tools installed by
``setup.sh``; CI never runs them, it scores the committed cases.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import tarfile
import termios
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1]
WORK = Path(os.environ.get("CORPUS_WORK", "/tmp/corpus-capture"))
TOOLS = WORK / "tools"  # a venv holding the Python tools (setup.sh)
NODE_TOOLS = WORK / "node-tools"  # an npm prefix holding the JavaScript tools (setup.sh)
SHOWN_ROOT = "/home/dev/src/proj"  # where the captured projects appear to live
SHOWN_HOME = "/home/dev"

ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[PX^_][^\x1b]*\x1b\\"
    r"|\x1b[@-Z\\-_]"
    r"|\x1b[()][0-9A-Za-z]"
)  # the scorer's own definition, so a fact found here is found by the scorer


REGISTRY_HOST_RE = re.compile(rb"(https?://)[A-Za-z0-9.-]*(?:pypi|pythonhosted|npmjs|yarnpkg|debian)[A-Za-z0-9.-]*")


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


def sh(cmd: str, cwd: Path | str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Run a setup step; fail loudly, since a case built on a broken setup is worthless."""
    proc = subprocess.run(
        cmd, shell=True, cwd=cwd, env=tool_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"setup step failed ({proc.returncode}): {cmd}\n{proc.stdout[-3000:]}")
    return proc.stdout


def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{TOOLS / 'bin'}:{NODE_TOOLS / 'bin'}:{env.get('PATH', '')}"
    env.setdefault("LANG", "C.UTF-8")
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "NO_COLOR", "CI", "PIP_FIND_LINKS"):
        env.pop(name, None)
    env["PIP_CONFIG_FILE"] = os.devnull  # a plain pip, as a developer's machine has it
    env["GIT_PAGER"] = "cat"  # a pager would wait for keys in the pseudo-terminal
    env.update(extra or {})
    return env


def fresh_dir(name: str) -> Path:
    path = WORK / "src" / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def _extract_single_root(archive: Path, dest: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    roots = [p for p in dest.iterdir() if p.is_dir()]
    assert len(roots) == 1, roots
    return roots[0]


def pypi_sdist(name: str, version: str, case: str) -> Path:
    """Unpack the sdist of NAME==VERSION into a fresh folder named after the case."""
    dl = WORK / "downloads"
    dl.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{version}".lower().replace("_", "-")

    def downloaded() -> list[Path]:
        return [p for p in dl.iterdir() if p.name.lower().replace("_", "-") == f"{stem}.tar.gz"]

    found = downloaded()
    if not found:
        sh(f"pip download --quiet --no-deps --no-binary :all: -d {dl} '{name}=={version}'")
        found = downloaded()
    assert found, f"no sdist for {name} {version}"
    dest = fresh_dir(case)
    root = _extract_single_root(found[0], dest)
    target = dest / name
    root.rename(target)
    return target


def npm_package(name: str, version: str, case: str) -> Path:
    """Unpack the npm tarball of NAME@VERSION into a fresh folder named after the case."""
    dl = WORK / "downloads"
    dl.mkdir(parents=True, exist_ok=True)
    out = sh(f"npm pack --silent '{name}@{version}'", cwd=dl).strip().splitlines()[-1]
    dest = fresh_dir(case)
    root = _extract_single_root(dl / out, dest)
    target = dest / name.split("/")[-1]
    root.rename(target)
    return target


def debian_source(package: str, case: str) -> Path:
    """Unpack a Debian source package (apt-get source) into a fresh folder named after the case."""
    dest = fresh_dir(case)
    sh(f"apt-get source --download-only {package}", cwd=dest)
    dsc = next(dest.glob("*.dsc"))
    sh(f"dpkg-source --no-check -x {dsc.name} {package} && rm -f *.dsc *.tar.* *.diff.gz", cwd=dest)
    return dest / package


def debian_binary(package: str, case: str) -> Path:
    """Unpack a Debian binary package (apt-get download) into a fresh folder named after the
    case: for tools that ship their source as scripts."""
    dest = fresh_dir(case)
    sh(f"apt-get download {package}", cwd=dest)
    deb = next(dest.glob("*.deb"))
    sh(f"dpkg-deb -x {deb.name} {package} && rm {deb.name}", cwd=dest)
    return dest / package


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Put a bug in: replace OLD by NEW exactly COUNT times, or fail if the source moved on."""
    text = path.read_text()
    found = text.count(old)
    if found < count:
        raise RuntimeError(f"{path}: expected {count} of {old!r}, found {found}")
    path.write_text(text.replace(old, new, count))


def run(
    cmd: str,
    cwd: Path,
    *,
    pty_mode: bool,
    env: Mapping[str, str] | None = None,
    cols: int = 120,
    rows: int = 40,
    timeout: float = 900,
) -> tuple[bytes, int]:
    """Run CMD through the shell and return its combined stdout+stderr, byte for byte, and its
    exit status. In pty mode the tool sees a terminal (so it colours, redraws with \\r, uses
    its interactive formats); otherwise stdout and stderr share one pipe, as `2>&1` would."""
    full_env = tool_env(env)
    if not pty_mode:
        full_env.setdefault("TERM", "dumb")
        done = subprocess.run(
            cmd, shell=True, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, check=False,
        )
        return done.stdout, done.returncode
    full_env["TERM"] = "xterm-256color"
    full_env["COLUMNS"], full_env["LINES"] = str(cols), str(rows)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    proc = subprocess.Popen(
        cmd, shell=True, cwd=cwd, env=full_env, stdin=slave, stdout=slave, stderr=slave,
        start_new_session=True, close_fds=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError(cmd)
        ready, _, _ = select.select([master], [], [], 0.5)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return b"".join(chunks), proc.wait()


def scrub(raw: bytes, replacements: Mapping[str, str] | None = None) -> bytes:
    """Hide where the capture ran: the scratch folder, the tool venvs, root's home and the
    registries' host names become a neutral developer's layout."""
    pairs: list[tuple[str, str]] = list((replacements or {}).items())
    pairs += [
        (str(TOOLS), f"{SHOWN_HOME}/.venvs/tools"),
        (str(NODE_TOOLS), f"{SHOWN_HOME}/.npm-global"),
        (str(WORK / "src"), SHOWN_ROOT),
        (str(WORK), f"{SHOWN_HOME}/work"),
        ("/root/.pyenv", f"{SHOWN_HOME}/.pyenv"),
        ("/root/.cargo", f"{SHOWN_HOME}/.cargo"),
        ("/root/.cache", f"{SHOWN_HOME}/.cache"),
        ("/root/.npm", f"{SHOWN_HOME}/.npm"),
        ("/root", SHOWN_HOME),
    ]
    text = raw
    for old, new in pairs:
        text = text.replace(old.encode(), new.encode())
    # Package registries' host names are not part of any fact; keep the shape of the URL.
    text = REGISTRY_HOST_RE.sub(rb"\1registry.example", text)
    return text


def _line_matches(line: str, parts: Iterable[str]) -> bool:
    return all(p in line for p in parts)


class Case:
    """One corpus case: the raw capture plus the facts located in it."""

    def __init__(
        self, name: str, *, tool: str, kind: str, cmd: str, raw: bytes, exit_code: int, pty: bool,
        source: str, modification: str, facts_from: str, script: str,
    ) -> None:
        self.name, self.tool, self.kind, self.cmd = name, tool, kind, cmd
        self.raw, self.exit_code, self.pty = raw, exit_code, pty
        self.source, self.modification, self.facts_from = source, modification, facts_from
        self.script = Path(script).name
        self.text = strip_ansi(raw.decode("utf-8", "replace"))
        # A carriage return starts a redraw: each piece between them is a line as far as facts go.
        self.lines = [piece for line in self.text.split("\n") for piece in line.rstrip("\r").split("\r")]
        self.facts: dict[str, str] = {}

    def fact(self, text: str, why: str) -> str:
        """Add a fact that must appear verbatim in the ANSI-stripped raw text."""
        text = text.strip()
        if not text:
            raise ValueError("empty fact")
        if text not in self.text:
            raise ValueError(f"{self.name}: fact not in raw output: {text!r}")
        self.facts.setdefault(text, why)
        return text

    def line(self, *parts: str, start: int = 0) -> str:
        """The first raw line (ANSI-stripped, trimmed) containing every one of PARTS."""
        for line in self.lines[start:]:
            if _line_matches(line, parts):
                return line.strip()
        raise ValueError(f"{self.name}: no raw line holds {parts!r}")

    def line_fact(self, *parts: str, why: str) -> str:
        """Locate a structured-reporter item in the raw text and keep its whole line."""
        return self.fact(self.line(*parts), why)

    def write(self) -> Path:
        folder = CORPUS / self.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "cmd.txt").write_text(self.cmd + "\n")
        (folder / "raw.txt").write_bytes(self.raw)
        (folder / "exit_code.txt").write_text(f"{self.exit_code}\n")
        facts = {"must_keep": list(self.facts), "exit_code": self.exit_code,
                 "why": {**self.facts, "exit_code": "process exit status"}}
        (folder / "facts.json").write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n")
        self._update_manifest()
        print(f"{self.name}: {len(self.raw)} bytes, exit {self.exit_code}, {len(self.facts)} facts")
        return folder

    def _update_manifest(self) -> None:
        path = CORPUS / "manifest.json"
        entries = json.loads(path.read_text()) if path.exists() else []
        entries = [e for e in entries if e["case"] != self.name]
        entries.append({
            "case": self.name, "tool": self.tool, "kind": self.kind, "cmd": self.cmd, "pty": self.pty,
            "raw_bytes": len(self.raw), "exit_code": self.exit_code, "must_keep": len(self.facts),
            "source": self.source, "modification": self.modification, "facts_from": self.facts_from,
            "captured_by": f"capture/{self.script}",
        })
        entries.sort(key=lambda e: e["case"])
        path.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n")


def capture(
    name: str, cmd: str, cwd: Path, *, tool: str, kind: str, pty: bool, source: str, modification: str,
    facts_from: str, script: str, env: Mapping[str, str] | None = None, shown_cmd: str | None = None,
    cols: int = 120,
) -> Case:
    """Run the real tool and wrap its scrubbed output in a Case ready for its facts."""
    raw, code = run(cmd, cwd, pty_mode=pty, env=env, cols=cols)
    here = {str(WORK / "src" / name): SHOWN_ROOT}  # the case's own folder is the developer's projects folder
    return Case(
        name, tool=tool, kind=kind, cmd=shown_cmd or cmd, raw=scrub(raw, here), exit_code=code, pty=pty,
        source=source, modification=modification, facts_from=facts_from, script=script,
    )


def structured(cmd: str, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Second run with the tool's structured reporter; its exit status is the tool's verdict,
    not a setup failure, so it is not checked."""
    proc = subprocess.run(
        cmd, shell=True, cwd=cwd, env=tool_env(env), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        check=False,
    )
    return proc.stdout


def shown(path: Path | str, case: str) -> str:
    """The scrubbed form of a path under CASE's scratch folder, as it appears in raw.txt."""
    return scrub(str(path).encode(), {str(WORK / "src" / case): SHOWN_ROOT}).decode()


def capture_all(cases: Mapping[str, Callable[[], Case | list[Case]]], argv: list[str]) -> None:
    """Make the cases named in ARGV by their keys (every case when none is named), and write them."""
    assert (TOOLS / "bin").is_dir() and (NODE_TOOLS / "bin").is_dir(), "run setup.sh first"
    unknown = [key for key in argv if key not in cases]
    if unknown:
        raise SystemExit(f"unknown case {', '.join(unknown)}; this script makes: {', '.join(cases)}")
    for key in argv or list(cases):
        made = cases[key]()
        for case in made if isinstance(made, list) else [made]:
            case.write()
