"""The one renderer: what a handler returns, shown as a table for people, JSON or CSV.

Handlers return a `Result` and never print it themselves; the CLI and the interactive
REPL render it here, each to its own stream. Standard library only, and no `dataclasses` or
`typing` at run time: this is on the path of every `exec` through the session host, where each
import is felt (dataclasses alone pulls in `inspect`).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any, TextIO


class Table:
    def __init__(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], empty: str | None = None) -> None:
        self.headers = headers
        self.rows = rows
        self.empty = empty  # said instead of an empty table

    def text(self) -> str:
        if not self.rows and self.empty is not None:
            return self.empty
        cells = [[str(h) for h in self.headers]] + [["" if v is None else str(v) for v in r] for r in self.rows]
        widths = [max(map(len, column)) for column in zip(*cells, strict=False)][: len(self.headers)]
        # One format per line, run in C: a 10,000-row table is printed in a blink, not cell by cell.
        line = "  ".join(f"{{:<{w}}}" for w in widths).format
        lines = [line(*row[: len(widths)]).rstrip() for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


class Fields:
    """`key  value` lines, keys right-aligned; empty values are left out."""

    def __init__(self, items: Sequence[tuple[str, Any]]) -> None:
        self.items = items

    def text(self) -> str:
        shown = [(k, v) for k, v in self.items if v not in (None, "", [], ())]
        width = max((len(k) for k, _ in shown), default=0)
        return "\n".join(f"{k:>{width}}  {v}" for k, v in shown)


if TYPE_CHECKING:
    View = str | Table | Fields | Sequence["View"]


class Result:
    def __init__(self, data: Any = None, view: View | None = None, records: Sequence[Mapping[str, Any]] | None = None,
                 status: int = 0, notes: Sequence[str] = ()) -> None:  # fmt: skip
        self.data = data  # --format json
        self.view = view  # --format table (people)
        self.records = records  # --format csv, one flat row each
        self.status = status  # the exit code
        self.notes = list(notes)  # to stderr, whatever the format

    def __repr__(self) -> str:
        return f"Result(status={self.status}, data={self.data!r}, notes={self.notes!r})"


def view_text(view: View) -> str:
    if isinstance(view, str):
        return view
    if isinstance(view, (Table, Fields)):
        return view.text()
    return "\n".join(view_text(v) for v in view)


def to_json(value: Any) -> str:
    import json  # here: a command that prints text (the `compress` filter) never needs it

    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def to_csv(records: Sequence[Mapping[str, Any]]) -> str:
    import csv
    import io

    out = io.StringIO()
    if records:
        writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        for row in records:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def formatted(result: Result, fmt: str) -> str | None:
    """The result's text in `fmt` (table, json or csv), or None when it has none in it."""
    if fmt == "json":
        return None if result.data is None else to_json(result.data) + "\n"
    if fmt == "csv":
        return None if result.records is None else to_csv(result.records)
    if result.view is None:
        return None
    text = view_text(result.view)
    return text if not text or text.endswith("\n") else text + "\n"


def render(result: Result, fmt: str = "table", out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Write a result; returns its exit code."""
    text = formatted(result, fmt)
    if text:
        (out or sys.stdout).write(text)
        (out or sys.stdout).flush()
    for note in result.notes:
        print(note, file=err or sys.stderr)
    return result.status
