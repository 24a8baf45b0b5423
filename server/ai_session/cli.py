"""`ai-session`: the command-line adapter over SessionManager.

Tables for people, `--format json` for scripts. Errors go to stderr as one line and the
exit code says what kind (see `EXIT CODES` in --help).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ai_session import __version__
from ai_session.core.compress import StreamCompressor
from ai_session.core.durations import parse_duration
from ai_session.core.config import Config
from ai_session.core.errors import AiSessionError, InvalidInput
from ai_session.core.manager import SessionManager
from ai_session.core.models import CommandRun, Message, PoolConfig, Session, SessionStatus, utcnow
from ai_session.core.store import SessionAccess, Totals, is_postgres_url, open_store
from ai_session.core.tokens import count_tokens

EPILOG = """\
sessions are named by name, id, or a unique prefix of the id.

environment:
  AI_SESSION_HOME         data dir (default: the platform's user data dir)
  AI_SESSION_STORE        store URL or file path (default: $AI_SESSION_HOME/sessions.db)
  AI_SESSION_MAX_TOKENS   default context budget of new sessions (4096)
  AI_SESSION_COMPRESSION  on/off: compress command output for the agent (on)
  AI_SESSION_CONFIG       config file (default: <user config dir>/ai-session/config.toml)

exit codes:
  0 ok   1 failed   2 bad input   3 not found   4 ambiguous   5 conflict   6 store error
  7 provider error   8 access denied (team store)
"""

Handler = Callable[[Any, argparse.Namespace], int]
COMMANDS: dict[str, Handler] = {}
# What a handler gets: the SessionManager (most), the Config (store administration, which
# must work before the store is usable) or nothing (filters like `compress`, the server).
Needs = Literal["manager", "config", "nothing"]
NEEDS: dict[str, Needs] = {}


def command(name: str, needs: Needs = "manager") -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = fn
        NEEDS[name] = needs
        return fn

    return register


# ---------------------------------------------------------------------- output


def emit_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def ago(when: datetime) -> str:
    seconds = max(0, int((utcnow() - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def human_tokens(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def session_json(s: Session, totals: Totals | None = None) -> dict[str, Any]:
    data = s.model_dump(mode="json", by_alias=True)
    if totals is not None:
        data["totals"] = {
            "messages": totals.messages,
            "messageTokens": totals.message_tokens,
            "runs": totals.runs,
            "rawTokens": totals.raw_tokens,
            "contextTokens": totals.context_tokens,
            "costUsd": totals.cost_usd,
        }
    return data


def savings(t: Totals) -> str:
    return f"{(1 - t.context_tokens / t.raw_tokens) * 100:.0f}%" if t.raw_tokens else "-"


def print_session(s: Session, t: Totals) -> None:
    fields = [
        ("id", s.id),
        ("name", s.name),
        ("status", s.status.value),
        ("agent", s.agent),
        ("role", s.role),
        ("worktree", s.worktree),
        ("branch", s.branch),
        ("provider", s.provider and f"{s.provider} ({s.model or 'default model'})"),
        ("budget", f"{s.max_tokens} tokens"),
        ("template", s.template),
        ("tags", ", ".join(s.tags)),
        ("created", f"{s.created_at:%Y-%m-%d %H:%M} ({ago(s.created_at)})"),
        ("last active", ago(s.last_active)),
        ("messages", f"{t.messages} ({human_tokens(t.message_tokens)} tokens)"),
        ("commands", f"{t.runs} (raw {human_tokens(t.raw_tokens)} -> context {human_tokens(t.context_tokens)} tokens, saved {savings(t)})"),
    ]
    for key, value in fields:
        if value:
            print(f"{key:>12}  {value}")


def message_line(m: Message) -> str:
    pin = "*" if m.pinned else " "
    first = m.content.splitlines()[0] if m.content else ""
    if m.covers:  # a summary: say what it stands for (`ai-session summary SESSION SEQ` shows them)
        first = f"[covers {m.covers[0]}–{m.covers[1]}] {first}"
    more = " …" if len(m.content.splitlines()) > 1 or len(first) > 100 else ""
    return f"{m.seq:>5}{pin} {m.created_at:%H:%M:%S} {m.role.value:<9} {m.kind.value:<8} {m.tokens or 0:>6}t  {first[:100]}{more}"


def run_line(r: CommandRun) -> str:
    code = "…" if r.exit_code is None else str(r.exit_code)
    return f"  {r.id}  exit {code:>3}  {r.status.value:<9} {human_tokens(r.raw_tokens):>6} -> {human_tokens(r.context_tokens):>6}  {r.command[:80]}"


# ---------------------------------------------------------------------- lifecycle


@command("create")
def cmd_create(m: SessionManager, a: argparse.Namespace) -> int:
    worktree = branch = None
    if a.worktree:
        from ai_session.core import worktree as git_worktree

        tree = git_worktree.detect(a.worktree)
        if tree is None:
            raise InvalidInput(f"{a.worktree} is not inside a git worktree")
        worktree, branch = tree.root, tree.label
    s = m.create(
        a.name or a.name_pos,
        agent=a.agent,
        role=a.role,
        template=a.template,
        from_pool=a.pool,
        max_tokens=a.max_tokens,
        worktree=worktree,
        branch=branch,
        provider=a.provider,
        model=a.model,
        system_prompt=a.system_prompt,
        tags=a.tag or (),
    )
    if a.format == "json":
        emit_json(session_json(s))
    else:
        print(f"created session {s.name} ({s.id})")
    return 0


@command("list")
def cmd_list(m: SessionManager, a: argparse.Namespace) -> int:
    wanted = {
        SessionStatus.ACTIVE: a.active,
        SessionStatus.IDLE: a.idle,
        SessionStatus.PAUSED: a.paused,
        SessionStatus.ENDED: a.ended,
        SessionStatus.POOL: a.pool,
    }
    statuses = [s for s, on in wanted.items() if on]
    sessions = m.list(statuses=statuses or None, agent=a.agent, role=a.role, include_pool=a.pool)
    totals = m.totals(sessions)
    if a.format == "json":
        emit_json([session_json(s, totals.get(s.id, Totals())) for s in sessions])
        return 0
    if not sessions:
        print("no sessions (create one with `ai-session create --name NAME` or `ai-session worktree`)")
        return 0
    headers = ["NAME", "STATUS", "AGENT", "ROLE", "MSGS", "TOKENS", "SAVED", "LAST ACTIVE"]
    if a.detailed:
        headers += ["ID", "BRANCH", "WORKTREE"]
    rows = []
    for s in sessions:
        t = totals.get(s.id, Totals())
        row = [s.name, s.status.value, s.agent or "-", s.role or "-", t.messages, human_tokens(t.message_tokens), savings(t), ago(s.last_active)]
        if a.detailed:
            row += [s.id, s.branch or "-", s.worktree or "-"]
        rows.append(row)
    print(table(headers, rows))
    return 0


@command("show")
def cmd_show(m: SessionManager, a: argparse.Namespace) -> int:
    view = m.show(a.session, history=a.history, limit=a.limit)
    if a.format == "json":
        data = session_json(view.session, view.totals)
        if a.history:
            data["messages"] = [x.model_dump(mode="json", by_alias=True) for x in view.messages]
            data["runs"] = [x.model_dump(mode="json", by_alias=True, exclude={"context"}) for x in view.runs]
        emit_json(data)
        return 0
    print_session(view.session, view.totals)
    if a.history:
        print(f"\nhistory (last {a.limit}):" if a.limit else "\nhistory:")
        for msg in view.messages:
            print(message_line(msg))
        if view.runs:
            print("\ncommand runs:")
            for run in view.runs:
                print(run_line(run))
    return 0


def _state_change(verb: str, action: Callable[[SessionManager, str], Session]) -> Handler:
    def handler(m: SessionManager, a: argparse.Namespace) -> int:
        s = action(m, a.session)
        if a.format == "json":
            emit_json(session_json(s))
        else:
            print(f"{verb} session {s.name} ({s.id})")
        return 0

    return handler


COMMANDS["pause"] = _state_change("paused", SessionManager.pause)
COMMANDS["resume"] = _state_change("resumed", SessionManager.resume)
COMMANDS["end"] = _state_change("ended", SessionManager.end)


@command("attach")
def cmd_attach(m: SessionManager, a: argparse.Namespace) -> int:
    view = m.show(a.session, history=True, limit=10)
    session = m.touch(view.session)
    interactive = not a.no_terminal and a.format == "table" and sys.stdin.isatty() and sys.stdout.isatty()
    if interactive:
        return asyncio.run(_attach_terminal(m, session))
    if a.format == "json":
        emit_json(session_json(session, view.totals))
        return 0
    print_session(session, view.totals)
    return 0


DETACH_KEY = b"\x1d"  # Ctrl-]


async def _attach_terminal(m: SessionManager, session: Session) -> int:
    """Raw-mode terminal on the session's shell; every typed command is recorded as a run."""
    import termios
    import tty

    fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
    size = os.get_terminal_size(fd_out)
    sh = await m.shells.shell(session, rows=size.lines, cols=size.columns)
    loop = asyncio.get_running_loop()
    detached = asyncio.Event()

    def show(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd_out, view):]

    def on_keys() -> None:
        data = os.read(fd_in, 4096)
        cut = data.find(DETACH_KEY)
        if not data or cut >= 0:
            sh.write(data[: max(cut, 0)])
            detached.set()
        else:
            sh.write(data)

    def on_resize() -> None:
        new = os.get_terminal_size(fd_out)
        sh.resize(new.lines, new.columns)

    show(f"[ai-session] attached to {session.name}; Ctrl-] detaches\r\n".encode())
    saved = termios.tcgetattr(fd_in)
    tty.setraw(fd_in)
    unsubscribe = sh.subscribe(show)
    loop.add_reader(fd_in, on_keys)
    loop.add_signal_handler(signal.SIGWINCH, on_resize)
    try:
        sh.write(b"\n")  # a fresh prompt (an empty line is not a command)
        ended = asyncio.ensure_future(sh.wait_closed())
        await asyncio.wait({ended, asyncio.ensure_future(detached.wait())}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        loop.remove_reader(fd_in)
        loop.remove_signal_handler(signal.SIGWINCH)
        unsubscribe()
        termios.tcsetattr(fd_in, termios.TCSAFLUSH, saved)
        await m.shells.close()
    print(f"\n[ai-session] detached from {session.name}; cwd and env saved")
    return 0


@command("exec")
def cmd_exec(m: SessionManager, a: argparse.Namespace) -> int:
    session = m.resolve(a.session)
    live = a.format == "table" and not a.capture
    return asyncio.run(_exec(m, session, a, live))


async def _exec(m: SessionManager, session: Session, a: argparse.Namespace, live: bool) -> int:
    out = sys.stdout.buffer

    def show(chunk: bytes) -> None:
        out.write(chunk)
        out.flush()

    task = asyncio.ensure_future(
        m.exec(session, a.cmd, timeout=a.timeout, cwd=a.cwd, on_output=show if live else None)
    )
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, task.cancel)
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        run = await task
    except asyncio.CancelledError:
        runs = m.store.list_runs(session.id, last=1)
        run = runs[-1] if runs else None
    finally:
        await m.shells.close()
    if run is None:
        return 130
    if a.format == "json":
        data = run.model_dump(mode="json", by_alias=True)
        data["output"] = m.store.run_output(run.id)
        emit_json(data)
    elif a.capture:
        show((m.store.run_output(run.id) or "").encode())
    status = run.status.value
    if status == "timeout":
        print(f"ai-session: timed out after {a.timeout:g}s; stopped the command and its processes", file=sys.stderr)
        return 124
    if status == "cancelled":
        return 130
    return run.exit_code if run.exit_code is not None else 1


@command("migrate")
def cmd_migrate(m: SessionManager, a: argparse.Namespace) -> int:
    s = m.migrate_tmux(
        a.tmux_session, name=a.name, replace=a.replace, socket_name=a.socket_name, socket_path=a.socket_path
    )
    info = s.metadata.get("migrated_from", {})
    if a.format == "json":
        emit_json(session_json(s))
    else:
        print(
            f"migrated tmux session {a.tmux_session} to {s.name} ({s.id}): cwd {s.shell_cwd}, "
            f"{len(info.get('windows', []))} window(s), {len(info.get('commands', []))} command(s) recovered"
            + ("; tmux session killed" if a.replace else "")
        )
    return 0


@command("delete")
def cmd_delete(m: SessionManager, a: argparse.Namespace) -> int:
    s = m.resolve(a.session)
    if not a.force and sys.stdin.isatty():
        answer = input(f"delete session {s.name} ({s.id}) and all its history? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept", file=sys.stderr)
            return 1
    m.delete(s.id)
    if a.format == "json":
        emit_json({"deleted": s.id, "name": s.name})
    else:
        print(f"deleted session {s.name} ({s.id})")
    return 0


@command("rename")
def cmd_rename(m: SessionManager, a: argparse.Namespace) -> int:
    s = m.rename(a.session, a.new_name)
    print(json.dumps(session_json(s)) if a.format == "json" else f"renamed to {s.name} ({s.id})")
    return 0


@command("exists")
def cmd_exists(m: SessionManager, a: argparse.Namespace) -> int:
    found = m.exists(a.session)
    if a.format == "json":
        emit_json({"exists": found})
    return 0 if found else 1


@command("clear")
def cmd_clear(m: SessionManager, a: argparse.Namespace) -> int:
    older = parse_duration(a.older_than) if a.older_than else None
    doomed = m.clear(older_than=older, idle_only=a.idle_only, force=a.force, dry_run=a.dry_run)
    if a.format == "json":
        emit_json({"dryRun": a.dry_run, "sessions": [{"id": s.id, "name": s.name} for s in doomed]})
        return 0
    verb = "would delete" if a.dry_run else "deleted"
    for s in doomed:
        print(f"{verb} {s.name} ({s.status.value}, last active {ago(s.last_active)})")
    print(f"{verb} {len(doomed)} session(s)" + ("" if a.force else "; active and paused sessions are kept without --force"))
    return 0


@command("add")
def cmd_add(m: SessionManager, a: argparse.Namespace) -> int:
    content = a.content if a.content is not None else sys.stdin.read()
    msg = m.add_message(a.session, a.role, content, kind=a.kind, pinned=a.pin, agent=a.agent)
    if a.format == "json":
        emit_json(msg.model_dump(mode="json", by_alias=True))
    else:
        print(f"added message #{msg.seq} ({msg.tokens} tokens)")
    return 0


@command("pin")
def cmd_pin(m: SessionManager, a: argparse.Namespace) -> int:
    msg = m.pin(a.session, a.seq, not a.unpin)
    print(f"message #{msg.seq} {'pinned' if msg.pinned else 'unpinned'}")
    return 0


@command("output")
def cmd_output(m: SessionManager, a: argparse.Namespace) -> int:
    mode = "raw" if a.raw else "lines" if a.lines else "grep" if a.grep else "context"
    run, text = m.run_output(a.run, mode=mode, lines=a.lines, pattern=a.grep, context=a.context)
    if a.format == "json":
        emit_json({"run": run.model_dump(mode="json", by_alias=True, exclude={"context"}), "mode": mode, "text": text})
    else:
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    return 0


# ---------------------------------------------------------------------- history operations


@command("merge")
def cmd_merge(m: SessionManager, a: argparse.Namespace) -> int:
    s = m.merge(a.sessions, a.output)
    if a.format == "json":
        emit_json(session_json(s))
    else:
        print(f"merged {len(a.sessions)} sessions into {s.name} ({s.id})")
    return 0


@command("fork")
def cmd_fork(m: SessionManager, a: argparse.Namespace) -> int:
    s = m.fork(a.session, at=a.at, name=a.name)
    if a.format == "json":
        emit_json(session_json(s))
    else:
        print(f"forked into {s.name} ({s.id})")
    return 0


@command("export")
def cmd_export(m: SessionManager, a: argparse.Namespace) -> int:
    path = m.export(a.session, Path(a.output) if a.output else None)
    if a.format == "json":
        emit_json({"path": str(path)})
    else:
        print(f"exported to {path}")
    return 0


@command("import")
def cmd_import(m: SessionManager, a: argparse.Namespace) -> int:
    s = m.import_file(Path(a.file), a.input_format, name=a.name)
    t = m.show(s.id).totals
    if a.format == "json":
        emit_json(session_json(s, t))
    else:
        print(f"imported {s.name} ({s.id}): {t.messages} messages, {human_tokens(t.message_tokens)} tokens")
    return 0


# ---------------------------------------------------------------------- templates and pools


@command("template")
def cmd_template(m: SessionManager, a: argparse.Namespace) -> int:
    if a.action == "save":
        t = m.save_template(a.session, a.name, system_prompt=a.system_prompt)
        print(f"saved template {t.name} ({len(t.preload)} preloaded message(s))")
    elif a.action == "list":
        templates = m.store.list_templates()
        if a.format == "json":
            emit_json([t.model_dump(mode="json", by_alias=True) for t in templates])
        elif not templates:
            print("no templates (save one with `ai-session template save SESSION NAME`)")
        else:
            print(table(["NAME", "AGENT", "ROLE", "BUDGET", "PRELOAD", "PROMPT"],
                        [[t.name, t.agent or "-", t.role or "-", t.max_tokens, len(t.preload), (t.system_prompt or "")[:50]] for t in templates]))
    elif a.action == "show":
        t = m.get_template(a.name)
        if a.format == "json":
            emit_json(t.model_dump(mode="json", by_alias=True))
        else:
            for key in ("name", "agent", "role", "provider", "model", "max_tokens", "source_session"):
                print(f"{key:>14}  {getattr(t, key)}")
            print(f"{'system prompt':>14}  {t.system_prompt or '-'}")
            for msg in t.preload:
                print(f"{'preload':>14}  {msg.role.value}: {msg.content[:80]}")
    elif a.action == "delete":
        m.delete_template(a.name)
        print(f"deleted template {a.name}")
    return 0


@command("pool")
def cmd_pool(m: SessionManager, a: argparse.Namespace) -> int:
    if a.action == "set":
        m.configure_pool(PoolConfig(role=a.role, min_idle=a.min_idle, max_idle=a.max_idle,
                                    idle_timeout=int(parse_duration(a.idle_timeout).total_seconds()),
                                    agent=a.agent, template=a.template))
    elif a.action == "refill":
        for role, (created, retired) in m.replenish_pools(a.role).items():
            print(f"{role}: created {created}, retired {retired}")
        return 0
    elif a.action == "remove":
        n = m.remove_pool(a.role)
        print(f"removed pool {a.role} and {n} waiting session(s)")
        return 0
    elif a.action == "acquire":
        s = m.acquire(a.role, name=a.name)
        print(json.dumps(session_json(s)) if a.format == "json" else f"acquired {s.name} ({s.id})")
        return 0
    states = m.pool_status()
    if a.format == "json":
        emit_json([{**p.config.model_dump(mode="json", by_alias=True), "idle": p.idle} for p in states])
    elif not states:
        print("no pools (create one with `ai-session pool set ROLE --min-idle 2`)")
    else:
        print(table(["ROLE", "IDLE", "MIN", "MAX", "TIMEOUT", "AGENT", "TEMPLATE"],
                    [[p.config.role, p.idle, p.config.min_idle, p.config.max_idle, f"{p.config.idle_timeout}s",
                      p.config.agent or "-", p.config.template or "-"] for p in states]))
    return 0


# ---------------------------------------------------------------------- maintenance, stats, worktree


def _problems(m: SessionManager, a: argparse.Namespace, fix: bool) -> int:
    problems = m.repair(a.session) if fix else m.validate(a.session)
    if a.format == "json":
        emit_json([p.__dict__ for p in problems])
    elif not problems:
        print("no problems found")
    for p in problems if a.format != "json" else []:
        state = "fixed" if p.fixed else ("fixable with `ai-session repair`" if p.fixable else "not fixable")
        print(f"{p.session_id or 'store'}: {p.what} ({state})")
    unfixed = [p for p in problems if not p.fixed]
    return 1 if unfixed else 0


COMMANDS["validate"] = lambda m, a: _problems(m, a, fix=False)
COMMANDS["repair"] = lambda m, a: _problems(m, a, fix=True)


@command("optimize")
def cmd_optimize(m: SessionManager, a: argparse.Namespace) -> int:
    report = m.optimize()
    if a.format == "json":
        emit_json(report)
    else:
        print(f"re-compressed {report['recompressed']} bodies, pruned {report['changes_pruned']} change-log rows; "
              f"store {report['bytes_before']:,} -> {report['bytes_after']:,} bytes")
    return 0


@command("stats")
def cmd_stats(m: SessionManager, a: argparse.Namespace) -> int:
    group = "agent" if a.by_agent else "role" if a.by_role else "session"
    report = m.stats(period=parse_duration(a.period) if a.period else None, group_by=group, savings=a.show_savings)
    if a.export:
        from ai_session.core.privacy import write_private

        text = report.to_csv() if a.export.endswith(".csv") else report.to_json()
        write_private(Path(a.export), text.encode())
        print(f"exported stats to {a.export}", file=sys.stderr)
    if a.format == "json":
        print(report.to_json())
        return 0
    if a.format == "csv":
        print(report.to_csv(), end="")
        return 0
    headers = [group.upper(), "SESSIONS", "MSGS", "MSG TOKENS", "CMDS", "COST $"]
    if a.show_savings:
        headers += ["CMD RAW", "CMD CONTEXT", "CMD SAVED", "HIST RAW", "HIST CONTEXT", "HIST SAVED", "AVOIDED $"]
    rows = []
    for r in [*report.rows, report.total]:
        row = [r.key, r.sessions, r.messages, human_tokens(r.message_tokens), r.commands, f"{r.cost_usd:.4f}"]
        if a.show_savings:
            row += [human_tokens(r.raw_tokens), human_tokens(r.context_tokens),
                    f"{r.savings * 100:.1f}%" if r.raw_tokens else "-",
                    human_tokens(r.history_raw_tokens), human_tokens(r.history_context_tokens),
                    f"{r.history_savings * 100:.1f}%" if r.history_raw_tokens else "-", f"{r.cost_avoided_usd:.4f}"]
        rows.append(row)
    print(table(headers, rows))
    if a.show_savings:
        print("\nsaved = 1 - context/raw, counted in tokens (tiktoken cl100k_base), never in stored bytes.\n"
              "CMD: each command output run in the period, once: raw = its output capped at the agent's own\n"
              "  truncation limit ([context] agent_output_cap, 30,000 characters), context = the compressed form sent.\n"
              "HIST: each answer recorded in the period: raw = the whole history verbatim that request would\n"
              "  have carried without ai-session, context = what was sent (summary, pinned, recent turns).\n"
              "AVOIDED $ = (raw - context) tokens at the input price of the session's model (0 if unpriced).")
    return 0


@command("worktree")
def cmd_worktree(m: SessionManager, a: argparse.Namespace) -> int:
    s, created = m.worktree_session(a.path, agent=a.agent)
    if a.format == "json":
        emit_json({**session_json(s), "created": created})
    else:
        print(f"{'created' if created else 'attached'} session {s.name} ({s.id}) for {s.worktree} @ {s.branch}")
    return 0


# ---------------------------------------------------------------------- language server


@command("serve", needs="nothing")
def cmd_serve(_: SessionManager, a: argparse.Namespace) -> int:
    """The server opens its own store; stdout is the wire from here on."""
    from ai_session.lsp.server import create_server, serve_stdio, serve_tcp, setup_logging

    log_file = setup_logging(a.verbose)
    print(f"ai-session serve: logging to {log_file}", file=sys.stderr)
    server = create_server()
    if a.tcp:
        if a.host not in ("127.0.0.1", "::1", "localhost"):
            print(f"ai-session serve: listening on {a.host}, beyond loopback", file=sys.stderr)
        serve_tcp(server, a.host, a.port)
    else:
        serve_stdio(server)
    return 0


# ---------------------------------------------------------------------- team store


def _access_json(s: Session, access: SessionAccess | None) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "owner": access.owner if access else None,
            "members": access.members if access else []}


@command("share")
def cmd_share(m: SessionManager, a: argparse.Namespace) -> int:
    if a.remove and not a.users:
        raise InvalidInput("--remove needs --with USER")
    s, access = m.access(a.session)
    for user in a.users or ():
        s, access = m.share(s.id, user, remove=a.remove)
    if a.format == "json":
        emit_json(_access_json(s, access))
    elif access is None:
        print(f"session {s.name} is in a single-user store ({m.store.url}); nothing is shared")
    else:
        members = ", ".join(access.members) or "nobody else"
        print(f"session {s.name} ({s.id}): owner {access.owner}; shared with {members}")
    return 0


def _store_endpoint(config: Config, spec: str) -> str:
    """`sqlite` (this user's embedded store), `sqlite:PATH`, `sqlite:///PATH`, or a postgresql:// URL."""
    if spec == "sqlite":
        return str(config.home / "sessions.db")
    if spec.startswith("sqlite:") and not spec.startswith("sqlite:///"):
        return str(Path(spec[len("sqlite:"):]).expanduser().resolve())
    return spec


@command("store", needs="config")
def cmd_store(config: Config, a: argparse.Namespace) -> int:
    if a.action == "migrate":
        url = a.url or config.store_url
        if not is_postgres_url(url):
            open_store(url).close()  # the embedded store upgrades itself when opened
            print(f"embedded store {url} is up to date")
            return 0
        from ai_session.core.store.postgres import PostgresStore, redacted_url

        before, after = PostgresStore.migrate(url, user=config.user)
        if a.format == "json":
            emit_json({"store": redacted_url(url), "from": before, "to": after})
        elif before == after:
            print(f"team store {redacted_url(url)} is up to date (schema v{after})")
        else:
            print(f"team store {redacted_url(url)} migrated from schema v{before} to v{after}")
        return 0
    from ai_session.core.store.copy import copy_store

    source_url, target_url = _store_endpoint(config, a.source), _store_endpoint(config, a.target or config.store_url)
    if source_url == target_url:
        raise InvalidInput("--from and --to are the same store")
    source = open_store(source_url, user=config.user)
    try:
        target = open_store(target_url, user=config.user)
        try:
            quiet = a.format == "json"
            report = copy_store(source, target, progress=None if quiet else lambda line: print(line, flush=True))
        finally:
            target.close()
    finally:
        source.close()
    if a.format == "json":
        emit_json(report.__dict__)
    else:
        print(f"copied {report.sessions} session(s), {report.messages} message(s), {report.runs} run(s), "
              f"{report.templates} template(s), {report.pools} pool(s) to {target.url}")
        if report.skipped:
            print(f"skipped {len(report.skipped)} already there: {', '.join(report.skipped)}")
        if report.conflicts:
            print(f"not copied, name taken there by another session: {', '.join(report.conflicts)}", file=sys.stderr)
    return 1 if report.conflicts else 0


# ---------------------------------------------------------------------- output filter


@command("compress", needs="nothing")
def cmd_compress(m: SessionManager, a: argparse.Namespace) -> int:
    # Reads stdin in chunks: memory stays bounded however much a tool prints.
    sc = StreamCompressor(a.cmd, count_raw_tokens=a.stats)
    stdin = sys.stdin.buffer
    while chunk := stdin.read1(1 << 16) if hasattr(stdin, "read1") else stdin.read(1 << 16):
        sc.feed(chunk)
    result = sc.finish(a.exit_code)
    sys.stdout.write(result.text)
    sys.stdout.flush()
    if a.stats:
        raw = sc.raw_tokens or 0
        ctx = count_tokens(result.text)
        saved = f"{(1 - ctx / raw) * 100:.1f}%" if raw else "-"
        print(f"ai-session: {result.tool}: raw {raw} tokens, context {ctx} tokens, saved {saved}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- context, compaction, ask, REPL


def _prompt_text(a: argparse.Namespace) -> str | None:
    """The prompt from the arguments, else from stdin when it is piped."""
    if a.prompt:
        return " ".join(a.prompt)
    if not sys.stdin.isatty():
        text = sys.stdin.read()
        return text if text.strip() else None
    return None


def stream_answer(m: SessionManager, session: Session | str, prompt: str, *, quiet: bool = False,
                  **options: Any) -> Any:
    """Run one ask: deltas to stdout as they arrive (unless quiet), notices to stderr."""
    import asyncio

    from ai_session.core.providers import Notice, TextDelta

    async def run() -> Any:
        result = None
        async for event in m.ask(session, prompt, **options):
            if isinstance(event, TextDelta):
                if not quiet:
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
            elif isinstance(event, Notice):
                print(f"[ai-session] {event.message}", file=sys.stderr)
            else:
                result = event
        return result

    result = asyncio.run(run())
    if not quiet and result is not None and not result.completion.text.endswith("\n"):
        print()
    return result


@command("ask")
def cmd_ask(m: SessionManager, a: argparse.Namespace) -> int:
    if a.shared and not a.agent:
        raise InvalidInput("--shared needs --agent NAME")
    prompt = _prompt_text(a)
    if a.get_id and not a.session:
        session = m.create(agent=a.agent, provider=a.provider, model=a.model, max_tokens=a.max_tokens)
    elif not a.session:
        raise InvalidInput("ask needs --session ID (or --get-id to create one)")
    else:
        session = m.resolve(a.session)
    if prompt is None:
        if a.get_id:
            print(session.id)
            return 0
        raise InvalidInput("no prompt: give it as an argument or pipe it on stdin")
    result = stream_answer(
        m, session, prompt, quiet=a.get_id or a.format == "json", agent=a.agent, shared=a.shared,
        provider=a.provider, model=a.model, context_window=a.context_window, max_tokens=a.max_tokens,
        strategy=a.strategy,
    )
    if a.get_id:
        print(session.id)
    elif a.format == "json":
        emit_json(result.as_dict())
    if result.compaction is not None:
        c = result.compaction
        print(f"[ai-session] compacted messages {c.covers[0]}–{c.covers[1]} into summary #{c.summary.seq}", file=sys.stderr)
    if result.completion.note:
        print(f"[ai-session] {result.completion.note}", file=sys.stderr)
    return 0


@command("context")
def cmd_context(m: SessionManager, a: argparse.Namespace) -> int:
    from ai_session.core.context import render_text

    ctx = m.context(a.session, max_tokens=a.max_tokens, strategy=a.strategy, window=a.context_window)
    if a.format == "json":
        emit_json(ctx.as_dict())
    else:
        print(render_text(ctx, lines=a.lines or None))
    return 0


@command("compact")
def cmd_compact(m: SessionManager, a: argparse.Namespace) -> int:
    result = m.compact(a.session, budget=a.max_tokens, keep_last=a.keep_last, max_summary_tokens=a.summary_tokens,
                       method="model" if a.model_summary else "extractive", provider=a.provider)
    if a.format == "json":
        emit_json(result.as_dict() if result else None)
    elif result is None:
        print("nothing to compact: the recent turns already fit (see `ai-session context`)")
    else:
        print(f"summary #{result.summary.seq} ({result.method}, {result.summary_tokens} tokens) covers messages "
              f"{result.covers[0]}–{result.covers[1]}: {result.covered_messages} new message(s), "
              f"{human_tokens(result.covered_tokens)} tokens; {result.kept} recent kept verbatim. "
              f"Originals are kept: `ai-session summary {a.session} {result.summary.seq}`")
    return 0


@command("summary")
def cmd_summary(m: SessionManager, a: argparse.Namespace) -> int:
    if a.seq is None:
        found = m.summaries(a.session)
        if a.format == "json":
            emit_json([x.model_dump(mode="json", by_alias=True) for x in found])
        elif not found:
            print("no summaries (make one with `ai-session compact SESSION`)")
        else:
            print(table(["SEQ", "COVERS", "METHOD", "TOKENS", "OMITTED", "CREATED"],
                        [[x.seq, f"{x.covers[0]}–{x.covers[1]}" if x.covers else "-", x.metadata.get("method", "-"),
                          x.tokens, x.metadata.get("omitted", 0), f"{x.created_at:%Y-%m-%d %H:%M}"] for x in found]))
        return 0
    summary, originals = m.covered(a.session, a.seq)
    if a.format == "json":
        emit_json({"summary": summary.model_dump(mode="json", by_alias=True),
                   "covered": [x.model_dump(mode="json", by_alias=True) for x in originals]})
        return 0
    print(summary.content)
    print(f"\ncovers {len(originals)} stored message(s):")
    for msg in originals:
        print(message_line(msg))
    return 0


@command("interactive")
def cmd_interactive(m: SessionManager, a: argparse.Namespace) -> int:
    from ai_session.repl import Repl

    return Repl(m, a.session, agent=a.agent, provider=a.provider, model=a.model).run()


# ---------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentParser(add_help=False)
    fmt.add_argument("--format", choices=["table", "json"], default="table", help="table for people, json for scripts")
    parser = argparse.ArgumentParser(
        prog="ai-session",
        description="Persistent, per-worktree sessions for AI coding agents.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ai-session {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, help: str, formats: Sequence[str] = ("table", "json")) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--format", choices=formats, default="table", help=f"{' | '.join(formats)} (default: table)")
        return p

    p = add("create", "create a session")
    p.add_argument("name_pos", nargs="?", metavar="NAME", help="session name (or --name)")
    p.add_argument("--name", help="unique name (default: from agent/role)")
    p.add_argument("--agent", help="agent that works in it (e.g. frontend, claude)")
    p.add_argument("--role", help="the agent's role (e.g. Frontend); pools are per role")
    p.add_argument("--template", help="start from a saved template")
    p.add_argument("--pool", action="store_true", help="take an idle pre-created session of --role if there is one")
    p.add_argument("--max-tokens", type=int, help="context budget (default 4096 or AI_SESSION_MAX_TOKENS)")
    p.add_argument("--worktree", nargs="?", const=".", metavar="PATH", help="bind to the git worktree of PATH (default: .)")
    p.add_argument("--provider", choices=["claude", "openai", "anthropic"], help="AI provider for `ask`")
    p.add_argument("--model", help="model name for the provider")
    p.add_argument("--system-prompt", help="preloaded system prompt")
    p.add_argument("--tag", action="append", help="tag (repeatable)")

    p = add("list", "list sessions (newest activity first)")
    for flag in ("active", "idle", "paused", "ended", "pool"):
        p.add_argument(f"--{flag}", action="store_true", help=f"only {flag} sessions (combinable)")
    p.add_argument("--agent", help="only this agent's sessions")
    p.add_argument("--role", help="only this role's sessions")
    p.add_argument("--detailed", action="store_true", help="also show id, branch and worktree")

    p = add("show", "show a session, optionally with its history")
    p.add_argument("session")
    p.add_argument("--history", action="store_true", help="include messages and command runs")
    p.add_argument("--limit", type=int, default=20, help="last N messages/runs (default 20; 0 = all)")

    p = add("attach", "attach a terminal to the session's shell (in a terminal; Ctrl-] detaches), "
            "else mark it active and show its state")
    p.add_argument("session")
    p.add_argument("--no-terminal", action="store_true", help="only mark active and show the state")
    p = add("exec", "run a command in the session's persistent shell (cwd and env persist); exit code propagated")
    p.add_argument("session")
    p.add_argument("cmd", metavar="COMMAND", help="shell command line (quote it)")
    p.add_argument("--timeout", type=float, help="stop it (and every process it started) after S seconds")
    p.add_argument("--cwd", help="run it in DIR (the session shell's own cwd is unchanged)")
    p.add_argument("--capture", action="store_true", help="do not stream; print the stored (redacted) output at the end")
    p = add("migrate", "create a session from a tmux session: cwd, windows, scrollback, commands")
    p.add_argument("--session", dest="tmux_session", required=True, metavar="TMUX_SESSION")
    p.add_argument("--name", help="name of the new session (default: tmux-<name>)")
    p.add_argument("--replace", action="store_true", help="kill the tmux session after migrating")
    p.add_argument("--socket-name", "-L", help="tmux server socket name (tmux -L)")
    p.add_argument("--socket-path", "-S", help="tmux server socket path (tmux -S)")
    for name, text in (("pause", "pause a session"), ("resume", "resume a paused or idle session"),
                       ("end", "end a session (kept, read-only)"), ("exists", "exit 0 if the session exists, 1 if not")):
        add(name, text).add_argument("session")
    p = add("delete", "delete a session and its history")
    p.add_argument("session")
    p.add_argument("--force", "-f", action="store_true", help="do not ask for confirmation")
    p = add("rename", "rename a session")
    p.add_argument("session")
    p.add_argument("new_name")

    p = add("clear", "delete idle and ended sessions (active/paused ones only with --force)")
    p.add_argument("--older-than", metavar="AGE", help="only sessions inactive for AGE (e.g. 7d, 12h)")
    p.add_argument("--idle-only", action="store_true", help="only idle sessions (not ended ones)")
    p.add_argument("--force", action="store_true", help="also delete active and paused sessions")
    p.add_argument("--dry-run", action="store_true", help="show what would be deleted")

    p = add("add", "append a message to a session (content from the argument or stdin)")
    p.add_argument("session")
    p.add_argument("content", nargs="?")
    p.add_argument("--role", default="user", choices=["user", "assistant", "system", "tool"])
    p.add_argument("--kind", default="chat", choices=["chat", "command", "summary", "decision"])
    p.add_argument("--pin", action="store_true", help="always keep it in the context")
    p.add_argument("--agent", help="agent that wrote it (shared sessions)")

    p = add("pin", "pin (or --unpin) a message so context assembly always keeps it")
    p.add_argument("session")
    p.add_argument("seq", type=int)
    p.add_argument("--unpin", action="store_true")

    p = add("output", "a command run's output: the context form the agent got, or the full raw output")
    p.add_argument("run", help="run id (or a unique prefix)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--raw", action="store_true", help="the full raw output as captured")
    group.add_argument("--lines", metavar="A:B", help="raw lines A to B, numbered (1-based, inclusive)")
    group.add_argument("--grep", metavar="PATTERN", help="raw lines matching a regular expression, numbered")
    p.add_argument("--context", "-C", type=int, default=0, help="lines of context around --grep hits")

    p = add("merge", "merge two or more sessions into a new one (messages interleaved by time)")
    p.add_argument("sessions", nargs="+")
    p.add_argument("--output", "-o", metavar="NAME", help="name of the merged session")

    p = add("fork", "branch a session, optionally at a message")
    p.add_argument("session")
    p.add_argument("--at", type=int, metavar="SEQ", help="last message to keep (default: all)")
    p.add_argument("--name")

    p = add("export", "export a session to versioned JSON (secrets redacted)")
    p.add_argument("session")
    p.add_argument("--output", "-o", metavar="FILE", help="default: $AI_SESSION_HOME/exports/NAME.json")

    p = add("import", "import a session: ai-session export JSON, ChannelCoder JSON, Claude Code .jsonl")
    p.add_argument("--file", "-f", required=True)
    p.add_argument("--input-format", "--from", dest="input_format", default="auto",
                   choices=["auto", "native", "channelcoder", "claude-code"])
    p.add_argument("--name", help="name for the imported session")

    p = add("template", "session templates: a preloaded system prompt and settings")
    tsub = p.add_subparsers(dest="action", required=True)
    t = tsub.add_parser("save", parents=[fmt], help="save a session as a template")
    t.add_argument("session")
    t.add_argument("name")
    t.add_argument("--system-prompt")
    tsub.add_parser("list", parents=[fmt], help="list templates")
    for action in ("show", "delete"):
        tsub.add_parser(action, parents=[fmt], help=f"{action} a template").add_argument("name")

    p = add("pool", "pools of pre-created idle sessions per role")
    psub = p.add_subparsers(dest="action")
    q = psub.add_parser("set", parents=[fmt], help="create or change a role's pool")
    q.add_argument("role")
    q.add_argument("--min-idle", type=int, default=1)
    q.add_argument("--max-idle", type=int, default=4)
    q.add_argument("--idle-timeout", default="1h", help="retire pooled sessions waiting longer (e.g. 30m)")
    q.add_argument("--agent")
    q.add_argument("--template")
    psub.add_parser("list", parents=[fmt], help="pools and their idle sessions")
    psub.add_parser("refill", parents=[fmt], help="retire expired sessions, top up to min-idle").add_argument("role", nargs="?")
    psub.add_parser("remove", parents=[fmt], help="delete a pool and its waiting sessions").add_argument("role")
    q = psub.add_parser("acquire", parents=[fmt], help="take a session for a task")
    q.add_argument("role")
    q.add_argument("--name")

    for name, text in (("validate", "check sessions for broken rows, orphaned runs, bad token counts"),
                       ("repair", "fix what validate finds")):
        add(name, text).add_argument("session", nargs="?", help="one session (default: the whole store)")
    add("optimize", "re-compress large bodies, prune the change log, vacuum the store")

    p = add("stats", "messages, commands, tokens and savings per session, agent or role", ("table", "json", "csv"))
    p.add_argument("--period", metavar="AGE", help="only activity in the last AGE (e.g. 30d)")
    p.add_argument("--by-agent", action="store_true")
    p.add_argument("--by-role", action="store_true")
    p.add_argument("--show-savings", action="store_true", help="raw vs context tokens of command outputs")
    p.add_argument("--export", metavar="FILE", help="write the report to FILE (.csv or .json)")

    p = sub.add_parser("serve", help="run the JSON-RPC server for editors (stdio by default)",
                       description="Run the JSON-RPC server editors start. Logs go to stderr and the user log dir.")
    p.add_argument("--tcp", action="store_true", help="listen on TCP instead of stdio (for debugging)")
    p.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1; loopback only unless you ask)")
    p.add_argument("--port", type=int, default=7658, help="TCP port (default 7658)")
    p.add_argument("--verbose", "-v", action="store_true", help="debug logging")

    p = sub.add_parser("compress", help="filter: read a command's output on stdin, print its context form",
                       description="Read raw command output on stdin and print the compact context form "
                       "(every failing test, error and location kept). Example: pytest 2>&1 | ai-session compress "
                       "--cmd pytest --exit-code $?")
    p.add_argument("--cmd", default=None, help="the command line that produced the output (picks the reducer)")
    p.add_argument("--exit-code", type=int, default=None, help="its exit status (printed as [ai-session] exit N)")
    p.add_argument("--stats", action="store_true", help="print raw and context token counts to stderr")

    p = add("share", "show who shares a session, or share it --with a user (team store)")
    p.add_argument("session")
    p.add_argument("--with", dest="users", action="append", metavar="USER", help="database role to share with (repeatable)")
    p.add_argument("--remove", action="store_true", help="stop sharing with the --with users")

    p = add("store", "team store administration: create/upgrade the schema, copy sessions between stores")
    ssub = p.add_subparsers(dest="action", required=True)
    q = ssub.add_parser("migrate", parents=[fmt], help="create or upgrade the store's schema (an admin role)")
    q.add_argument("--url", help="store URL (default: the configured store)")
    q = ssub.add_parser("copy", parents=[fmt], help="copy all sessions, runs, templates and pools to another store")
    q.add_argument("--from", dest="source", required=True, metavar="STORE",
                   help="sqlite (your embedded store), sqlite:PATH, or postgresql://...")
    q.add_argument("--to", dest="target", metavar="STORE", help="same forms (default: the configured store)")

    p = add("worktree", "find or create the session of the current git worktree and branch")
    p.add_argument("path", nargs="?", default=".")
    p.add_argument("--agent")

    _add_context_parsers(add)
    return parser


def _add_context_parsers(add: Callable[..., argparse.ArgumentParser]) -> None:
    from ai_session.core.context import STRATEGIES
    from ai_session.core.providers import PROVIDERS

    def budget_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--max-tokens", type=int, help="token budget (default: the session's, 4096)")
        p.add_argument("--strategy", choices=STRATEGIES, help="default preserve_important (see docs/context.md)")
        p.add_argument("--context-window", type=int, metavar="N", help="only the last N message pairs verbatim")

    p = add("ask", "send a prompt in a session (argument or stdin) and stream the answer")
    p.add_argument("prompt", nargs="*", help="the prompt (default: stdin when piped)")
    p.add_argument("--session", "-s", help="session name or id")
    p.add_argument("--get-id", action="store_true", help="create a session (unless --session) and print only its id")
    p.add_argument("--agent", help="agent writing this turn (tags the messages)")
    p.add_argument("--shared", action="store_true", help="several agents write this session; needs --agent")
    p.add_argument("--provider", choices=PROVIDERS, help="provider for this ask (default: the session's)")
    p.add_argument("--model", help="model for this ask")
    budget_options(p)

    p = add("context", "the exact context the model gets next: parts, token counts, raw vs context")
    p.add_argument("session")
    budget_options(p)
    p.add_argument("--lines", type=int, metavar="N", help="print at most N lines of the context (0 = all)")

    p = add("compact", "summarize older turns into a stored summary message (originals are kept)")
    p.add_argument("session")
    p.add_argument("--max-tokens", type=int, help="the budget the kept tail is sized for (default: the session's)")
    p.add_argument("--keep-last", type=int, metavar="N", help="turns to keep verbatim (default: what fits half the budget)")
    p.add_argument("--summary-tokens", type=int, metavar="N", help="summary size limit (default: min(800, budget/4))")
    p.add_argument("--model-summary", action="store_true", help="have the session's provider write the summary")
    p.add_argument("--provider", choices=PROVIDERS, help="provider for --model-summary")

    p = add("summary", "list a session's summaries, or show one beside the messages it covers")
    p.add_argument("session")
    p.add_argument("seq", type=int, nargs="?", help="the summary's message number")

    p = add("interactive", "a REPL in a session: prompts go to the provider; save, context, clear, info, export, exec, exit")
    p.add_argument("--session", "-s", help="session (default: a new one)")
    p.add_argument("--agent")
    p.add_argument("--provider", choices=PROVIDERS)
    p.add_argument("--model")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "add" and args.content is None:
        args.content = " ".join(extra)  # text after the flags: argparse fills positionals before them
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    manager = None
    try:
        needs = NEEDS.get(args.command, "manager")
        if needs != "manager":
            return COMMANDS[args.command](Config.load() if needs == "config" else None, args)
        manager = SessionManager()
        return COMMANDS[args.command](manager, args)
    except AiSessionError as exc:
        print(f"ai-session: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("ai-session: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # reader went away (e.g. `| head`); nothing more to say
        return 0
    finally:
        if manager is not None:
            manager.close()
