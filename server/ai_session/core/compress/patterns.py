"""Regular expressions compiled when first used.

The reducers hold some 170 expressions, and compiling them all costs more than compressing a
megabyte of output; a command's output needs the guard's and its own tool's only. A pattern
made by `lazy` compiles on its first use, then hands out the compiled pattern's own methods
(set on itself, so later calls cost what a compiled pattern's do)."""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a filter's start-up)
if TYPE_CHECKING:
    from typing import Any

_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split", "scanner")


class _Lazy:
    def __init__(self, pattern: str, flags: int) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:  # only until compiled: then the attributes are its own
        compiled = re.compile(*self._source)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        self.__dict__.update(pattern=compiled.pattern, flags=compiled.flags, groups=compiled.groups,
                             groupindex=compiled.groupindex)  # fmt: skip
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self._source[0]!r})"


def lazy(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)`, done on first use (for anything but `re` functions)."""
    return _Lazy(pattern, flags)  # type: ignore[return-value]  # it acts as one
