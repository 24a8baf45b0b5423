"""Summaries of a range of messages, for history compaction.

Two summarizers, one output shape (`Summary`):

- `summarize_extractive`: no model, always available. It keeps, verbatim or nearly, the
  things an agent must not forget: what the user asked, the user's corrections,
  decisions, rejected approaches, commands with their exit codes, failing tests and error
  lines, and the file paths that came up.
- `summarize_with_model`: a provider writes the summary under a prompt that demands the
  same items; whatever it leaves out of the must-keep facts (failing tests, errors,
  failing commands, corrections) is appended from the extractive pass, so a model never
  loses a fact.

Bounded size: a summary is built from items, and an earlier summary inside the range is
parsed back into its items. Items are merged, de-duplicated and cut to `max_tokens` by
priority (plain asks go first, then successful commands and paths, the must-keep items
last, oldest first within a class), so compacting a summary again never grows it past
the budget. Originals stay in the store; the summary says which seqs it covers and how
many items it had to leave out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ai_session.core.models import CommandRun, Message, MessageKind, Role, Usage
from ai_session.core.providers.base import ChatMessage, ChatRequest, Provider
from ai_session.core.tokens import count_tokens

HEADER = "[ai-session] Summary of messages"
DEFAULT_SUMMARY_TOKENS = 800
_ITEM_CHARS = 240

# Section title -> priority class (higher survives longer when the budget is tight).
SECTIONS: dict[str, int] = {
    "User asks": 0,
    "Corrections": 3,
    "Decisions": 3,
    "Rejected approaches": 3,
    "Commands": 1,  # failing commands are promoted to 3
    "Failing tests and errors": 3,
    "Files": 1,
}

_CORRECTION = re.compile(
    r"^\s*(no\b|nope\b|wrong\b|actually\b|instead\b|stop\b|revert\b|undo\b|not that\b|that'?s not\b)"
    r"|\b(don'?t|do not|never|must not|mustn'?t|should not|shouldn'?t|instead of|should be|rather than|not what I)\b",
    re.IGNORECASE,
)
_DECISION = re.compile(
    r"\b(decided|decision|we will|we'll|let'?s (use|go with|keep)|going with|settled on|agreed|chose|choose)\b",
    re.IGNORECASE,
)
_DECISION_STRONG = re.compile(r"\b(decided|decision:|going with|settled on|agreed to)\b", re.IGNORECASE)
_REJECTED = re.compile(
    r"\b(reject(ed)?|won'?t work|will not work|doesn'?t work|does not work|didn'?t work|did not work|ruled out"
    r"|abandon(ed)?|gave up on|dropped the|not going to|no longer use|tried .{1,60} but)\b",
    re.IGNORECASE,
)
_ERROR_LINE = re.compile(
    r"^(FAILED |ERROR |FAIL |--- FAIL|panic:|npm ERR!|npm error |Traceback )"
    r"|\berror(\[E\d+\]| TS\d+)?:"
    r"|^\s*\w*(Error|Exception)\b:"
    r"|^test .+ \.\.\. FAILED$"
    r"|^\s*● ",
)
_EXIT = re.compile(r"\bexit(?:ed)?(?: code| status)?[ :=]+(-?\d+)\b", re.IGNORECASE)
_PATH = re.compile(r"^(?:[\w.@+-]*/)*[\w@+-][\w.@+-]*\.[A-Za-z][A-Za-z0-9]{0,7}(?::\d+){0,2}$")
_EXTENSIONS = frozenset(
    ["py", "pyi", "js", "jsx", "mjs", "cjs", "ts", "tsx", "rs", "go", "c", "h", "cc", "cpp", "hpp", "java", "kt", "rb", "php", "cs", "swift", "lua", "sh", "bash", "zsh", "md", "rst", "txt", "toml", "json", "yaml", "yml", "ini", "cfg", "conf", "lock", "sql", "html", "css", "scss", "vue", "svelte", "xml", "gradle", "mk", "cmake", "proto", "ipynb"]
)
_SPLIT = re.compile(r"[\s`'\"()\[\]{}<>,;]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Summary:
    text: str
    covers: tuple[int, int]  # first and last seq of the summarized range
    tokens: int
    method: str  # "extractive" | "model"
    omitted: int = 0  # items left out to stay under the budget (their originals remain)
    usage: Usage | None = None  # what the model call cost, for the model summarizer


@dataclass
class _Items:
    by_section: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    seen: set[tuple[str, str]] = field(default_factory=set)

    def add(self, section: str, text: str, priority: int | None = None) -> None:
        text = _clip(text)
        key = (section, text.lower())
        if not text or key in self.seen:
            return
        self.seen.add(key)
        self.by_section[section].append((SECTIONS[section] if priority is None else priority, text))


def summarize_extractive(
    messages: Sequence[Message],
    *,
    runs: Mapping[str, CommandRun] | None = None,
    max_tokens: int = DEFAULT_SUMMARY_TOKENS,
    model: str | None = None,
) -> Summary:
    """A summary of `messages` (oldest first) in at most `max_tokens` tokens.

    `runs` maps run ids to their CommandRun, for the command and exit code of command
    messages; without it they are read from the message metadata or text.
    """
    items = extract_items(messages, runs=runs)
    covers = _covers(messages)
    return _render(items, covers, max_tokens, model, "extractive")


def extract_items(messages: Sequence[Message], *, runs: Mapping[str, CommandRun] | None = None) -> _Items:
    items = _Items()
    for message in messages:
        if message.kind == MessageKind.SUMMARY or message.content.startswith(HEADER):
            _absorb_summary(items, message.content)
            continue
        if message.kind == MessageKind.COMMAND or message.run_id:
            _command(items, message, (runs or {}).get(message.run_id or ""))
        elif message.kind == MessageKind.DECISION:
            items.add("Decisions", _first_lines(message.content))
        elif message.role == Role.USER:
            _user(items, message.content)
        else:
            _prose(items, message.content, strong_decisions=True)
        _files(items, message.content)
        if message.role == Role.TOOL or message.kind == MessageKind.COMMAND:
            _errors(items, message.content)
    return items


def _user(items: _Items, text: str) -> None:
    if _CORRECTION.search(text):
        items.add("Corrections", _first_lines(text, 3))
    else:
        items.add("User asks", _first_lines(text, 1))
    _prose(items, text, strong_decisions=False)


def _prose(items: _Items, text: str, *, strong_decisions: bool) -> None:
    decision = _DECISION_STRONG if strong_decisions else _DECISION
    for line in text.splitlines():
        for sentence in _SENTENCE.split(line.strip()):
            if _REJECTED.search(sentence):
                items.add("Rejected approaches", sentence)
            elif decision.search(sentence):
                items.add("Decisions", sentence)
    _errors(items, text)


def _command(items: _Items, message: Message, run: CommandRun | None) -> None:
    lines = message.content.splitlines()
    command = run.command if run else message.metadata.get("command")
    if not command:
        command = next((ln[2:].strip() for ln in lines if ln.startswith("$ ")), None)
    code = run.exit_code if run else message.metadata.get("exit_code")
    if code is None:
        match = next((m for m in map(_EXIT.search, lines) if m), None)
        code = int(match.group(1)) if match else None
    if command:
        status = "exit ?" if code is None else f"exit {code}"
        items.add("Commands", f"`{command}` → {status}", priority=3 if code not in (0, None) else None)


def _errors(items: _Items, text: str) -> None:
    kept = 0
    for line in text.splitlines():
        line = line.strip()
        if line and _ERROR_LINE.search(line) and not line.startswith("[ai-session]"):
            items.add("Failing tests and errors", line)
            kept += 1
            if kept >= 12:  # a wall of errors is the command's to keep; its run stays retrievable
                return


def _files(items: _Items, text: str) -> None:
    for token in _SPLIT.split(text):
        token = token.rstrip(".:!?").split("::", 1)[0]
        if "://" in token or not _PATH.match(token):
            continue
        ext = token.split(":", 1)[0].rsplit(".", 1)[-1].lower()
        if "/" in token or ext in _EXTENSIONS:
            items.add("Files", token)


def _absorb_summary(items: _Items, text: str) -> None:
    """Re-read an earlier summary's items so compaction of compactions stays bounded."""
    section: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.endswith(":") and stripped[:-1] in SECTIONS:
            section = stripped[:-1]
        elif section and stripped.startswith("- "):
            body = stripped[2:]
            if section == "Files":
                for path in body.split(", "):
                    items.add("Files", path)
            elif section == "Commands":
                failing = not body.endswith("→ exit 0")
                items.add("Commands", body, priority=3 if failing else None)
            else:
                items.add(section, body)
        elif stripped and not stripped.startswith("[ai-session]"):
            section = None  # free text (a model-written summary): keep its fact lines
            _errors(items, stripped)
            if _CORRECTION.search(stripped):
                items.add("Corrections", stripped)


def _render(items: _Items, covers: tuple[int, int], max_tokens: int, model: str | None, method: str) -> Summary:
    # Every item with its order: (priority, age) decides what goes first when over budget.
    entries = [
        (priority, index, section, text)
        for section, values in items.by_section.items()
        for index, (priority, text) in enumerate(values)
    ]
    keep = set(range(len(entries)))
    order = sorted(range(len(entries)), key=lambda i: (entries[i][0], entries[i][1]))
    # Drop by per-item estimates first (one count per item, not per attempt), then check
    # the exact count of the composed text and drop more only if it is still over.
    cost = [count_tokens(f"- {e[3]}\n", model) for e in entries]
    estimate = count_tokens(_compose(entries, keep, covers, method, 0), model)
    omitted = 0
    while omitted < len(order) and estimate > max_tokens:
        keep.discard(order[omitted])
        estimate -= cost[order[omitted]]
        omitted += 1
    text = _compose(entries, keep, covers, method, omitted)
    while omitted < len(order) and count_tokens(text, model) > max_tokens:
        keep.discard(order[omitted])
        omitted += 1
        text = _compose(entries, keep, covers, method, omitted)
    return Summary(text=text, covers=covers, tokens=count_tokens(text, model), method=method, omitted=omitted)


def _compose(entries: list[tuple[int, int, str, str]], keep: set[int], covers: tuple[int, int], method: str,
             omitted: int) -> str:  # fmt: skip
    lines = [f"{HEADER} {covers[0]}–{covers[1]} ({method})."]
    for section in SECTIONS:
        chosen = [entries[i][3] for i in sorted(keep) if entries[i][2] == section]
        if not chosen:
            continue
        lines.append(f"{section}:")
        if section == "Files":
            lines.append("- " + ", ".join(chosen))
        else:
            lines += [f"- {c}" for c in chosen]
    if omitted:
        lines.append(
            f"[ai-session] {omitted} older item(s) left out to fit the budget; "
            f"messages {covers[0]}–{covers[1]} are kept in full."
        )
    return "\n".join(lines)


SUMMARY_PROMPT = """You compact the history of a coding session so an AI agent can continue it.
Write a summary of the conversation below, in at most {words} words, as short bullet lists under
these headings, omitting a heading only when it has nothing:
User asks / Corrections / Decisions / Rejected approaches / Commands / Failing tests and errors / Files.
You must keep, verbatim where possible:
- every correction the user made (what not to do, what to do instead);
- every decision taken and every approach that was rejected, with the reason;
- every command that was run, with its exit code;
- every failing test id and every error message line;
- every file path (with line numbers) that came up.
Do not invent anything. Do not add advice. Plain text only."""


async def summarize_with_model(
    messages: Sequence[Message],
    provider: Provider,
    *,
    runs: Mapping[str, CommandRun] | None = None,
    max_tokens: int = DEFAULT_SUMMARY_TOKENS,
    model: str | None = None,
    cwd: str | None = None,
) -> Summary:
    """A model-written summary, completed with every must-keep fact it left out."""
    covers = _covers(messages)
    transcript = "\n\n".join(_render_message(m, runs) for m in messages)
    request = ChatRequest(
        messages=[ChatMessage("user", f"Conversation to summarize (messages {covers[0]}–{covers[1]}):\n\n{transcript}")],
        system=SUMMARY_PROMPT.format(words=max(50, int(max_tokens * 0.6))),
        model=model,
        max_output_tokens=max_tokens,
        cwd=cwd,
    )
    answer = await provider.complete(request)
    body = answer.text.strip()
    facts = extract_items(messages, runs=runs)
    missing = _Items()
    lowered = body.lower()
    for section, values in facts.by_section.items():
        for priority, text in values:
            if priority >= 3 and _core(text).lower() not in lowered:
                missing.add(section, text, priority)
    missing_count = sum(len(v) for v in missing.by_section.values())
    header = f"{HEADER} {covers[0]}–{covers[1]} (model)."
    text = f"{header}\n{body}"
    if missing_count:
        kept = _render(missing, covers, max_tokens, model, "model").text.split("\n", 1)[1]
        text += f"\n[ai-session] Kept from the originals (the summary left them out):\n{kept}"
    if count_tokens(text, model) > max_tokens:
        # Too long to be a summary: the extractive one is bounded and keeps the same facts.
        fallback = _render(extract_items(messages, runs=runs), covers, max_tokens, model, "extractive")
        fallback.usage = answer.usage
        return fallback
    return Summary(text=text, covers=covers, tokens=count_tokens(text, model), method="model", usage=answer.usage)


def _render_message(message: Message, runs: Mapping[str, CommandRun] | None) -> str:
    who = message.agent or message.role.value
    run = (runs or {}).get(message.run_id or "")
    head = f"[{message.seq}] {who}"
    if run is not None:
        head += f" ran `{run.command}` (exit {run.exit_code})"
    return f"{head}:\n{message.content}"


def _covers(messages: Sequence[Message]) -> tuple[int, int]:
    if not messages:
        return (0, 0)
    first = min((m.covers[0] if m.covers else m.seq) for m in messages)
    last = max((m.covers[1] if m.covers else m.seq) for m in messages)
    return (first, last)


def _core(text: str) -> str:
    """The part of an item a model must reproduce: a command itself, not our arrow format."""
    if text.startswith("`") and "` →" in text:
        return text[1 : text.index("` →")]
    return text[:80]


def _first_lines(text: str, n: int = 2) -> str:
    return " / ".join(line.strip() for line in text.strip().splitlines()[:n] if line.strip())


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _ITEM_CHARS else text[: _ITEM_CHARS - 1] + "…"
