"""Templates (a preloaded system prompt and settings) and pools of pre-created sessions per role."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ai_session.cli.render import Fields, Result, Table
from ai_session.cli.spec import arg, command
from ai_session.cli.views import model_json, session_json

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager


@command(
    "template save",
    arg("name", metavar="NAME", help="the template's name"),
    arg("--system-prompt", help="its system prompt (default: the session's)"),
    target="session",
    help="save a session as a template",
)
def template_save(m: SessionManager, a: argparse.Namespace) -> Result:
    """Save a session's settings, system prompt and its pinned and system messages as a template."""
    t = m.save_template(a.session, a.name, system_prompt=a.system_prompt)
    return Result(data=model_json(t), view=f"saved template {t.name} ({len(t.preload)} preloaded message(s))")


@command("template list", help="list templates")
def template_list(m: SessionManager, a: argparse.Namespace) -> Result:
    """The templates, with their agent, role, budget, preloaded messages and prompt."""
    templates = m.templates()
    rows = [[t.name, t.agent or "-", t.role or "-", t.max_tokens, len(t.preload), (t.system_prompt or "")[:50]]
            for t in templates]  # fmt: skip
    return Result(data=model_json(templates), view=Table(
        ["NAME", "AGENT", "ROLE", "BUDGET", "PRELOAD", "PROMPT"], rows,
        empty="no templates (save one with `ai-session template save SESSION NAME`)"))  # fmt: skip


@command("template show", arg("name", metavar="NAME"), help="show a template")
def template_show(m: SessionManager, a: argparse.Namespace) -> Result:
    t = m.get_template(a.name)
    fields = [(key, str(getattr(t, key))) for key in ("name", "agent", "role", "provider", "model", "max_tokens",
                                                      "source_session")]  # fmt: skip
    fields.append(("system prompt", t.system_prompt or "-"))
    fields += [("preload", f"{msg.role.value}: {msg.content[:80]}") for msg in t.preload]
    return Result(data=model_json(t), view=Fields(fields))


@command("template delete", arg("name", metavar="NAME"), help="delete a template")
def template_delete(m: SessionManager, a: argparse.Namespace) -> Result:
    m.delete_template(a.name)
    return Result(data={"deleted": a.name}, view=f"deleted template {a.name}")


def _pools(m: SessionManager) -> Result:
    states = m.pool_status()
    rows = [[p.config.role, p.idle, p.config.min_idle, p.config.max_idle, f"{p.config.idle_timeout}s",
             p.config.agent or "-", p.config.template or "-"] for p in states]  # fmt: skip
    return Result(data=[{**model_json(p.config), "idle": p.idle} for p in states],
                  view=Table(["ROLE", "IDLE", "MIN", "MAX", "TIMEOUT", "AGENT", "TEMPLATE"], rows,
                             empty="no pools (create one with `ai-session pool set ROLE --min-idle 2`)"))  # fmt: skip


@command("pool")
def pool(m: SessionManager, a: argparse.Namespace) -> Result:
    """Pools of pre-created idle sessions per role; without an action, list them."""
    return _pools(m)


@command("pool list", help="pools and their idle sessions")
def pool_list(m: SessionManager, a: argparse.Namespace) -> Result:
    return _pools(m)


@command(
    "pool set",
    arg("role", metavar="ROLE"),
    arg("--min-idle", type=int, help="sessions kept waiting (new pool: [session_management.pool_config], 1)"),
    arg("--max-idle", type=int, help="more than this are retired (new pool: 4)"),
    arg("--idle-timeout", metavar="AGE", help="retire pooled sessions waiting longer (e.g. 30m; new pool: 1h)"),
    arg("--agent", help="agent of the pooled sessions"),
    arg("--template", help="template the pooled sessions start from"),
    help="create or change a role's pool (settings not given keep their value)",
)
def pool_set(m: SessionManager, a: argparse.Namespace) -> Result:
    """Create or change a role's pool and fill it to its minimum. A setting not given keeps
    its current value (for a new pool: the [session_management.pool_config] defaults)."""
    from ai_session.core.durations import parse_duration

    timeout = int(parse_duration(a.idle_timeout).total_seconds()) if a.idle_timeout else None
    m.set_pool(a.role, min_idle=a.min_idle, max_idle=a.max_idle, idle_timeout=timeout, agent=a.agent,
               template=a.template)  # fmt: skip
    return _pools(m)


@command("pool refill", arg("role", nargs="?", metavar="ROLE"), help="retire expired sessions, top up to min-idle")
def pool_refill(m: SessionManager, a: argparse.Namespace) -> Result:
    report = m.replenish_pools(a.role)
    return Result(data={role: {"created": c, "retired": r} for role, (c, r) in report.items()},
                  view=[f"{role}: created {c}, retired {r}" for role, (c, r) in report.items()])  # fmt: skip


@command("pool remove", arg("role", metavar="ROLE"), help="delete a pool and its waiting sessions")
def pool_remove(m: SessionManager, a: argparse.Namespace) -> Result:
    n = m.remove_pool(a.role)
    return Result(data={"role": a.role, "removed": n}, view=f"removed pool {a.role} and {n} waiting session(s)")


@command("pool acquire", arg("role", metavar="ROLE"), arg("--name", help="name for the session"),
         help="take a session for a task")  # fmt: skip
def pool_acquire(m: SessionManager, a: argparse.Namespace) -> Result:
    """Take a session for a task: a pooled one of ROLE if one is idle, else a new one; the pool refills."""
    s = m.acquire(a.role, name=a.name)
    return Result(data=session_json(s), view=f"acquired {s.name} ({s.id})")
