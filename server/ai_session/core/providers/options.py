"""Reading one `[providers.<name>]` config table: known keys only, typed, clear errors."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet  # a set or a frozenset
from typing import Any

from ai_session.core.errors import InvalidInput


class Options:
    def __init__(self, provider: str, raw: Mapping[str, Any] | None, allowed: AbstractSet[str]) -> None:
        self.section = f"providers.{provider}"
        self.raw = dict(raw or {})
        unknown = set(self.raw) - allowed
        if unknown:
            raise InvalidInput(
                f"{self.section}: unknown setting(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(allowed))}"
            )

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.raw.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidInput(f"{self.section}.{key} must be a string (got {value!r})")
        return value

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise InvalidInput(f"{self.section}.{key} must be a number >= {minimum:g} (got {value!r})")
        return float(value)

    def integer(self, key: str, default: int, *, minimum: int = 0) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise InvalidInput(f"{self.section}.{key} must be a whole number >= {minimum} (got {value!r})")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise InvalidInput(f"{self.section}.{key} must be true or false (got {value!r})")
        return value

    def strings(self, key: str) -> list[str]:
        value = self.raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"{self.section}.{key} must be a list of strings (got {value!r})")
        return list(value)

    def table(self, key: str) -> dict[str, str]:
        value = self.raw.get(key, {})
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise InvalidInput(f"{self.section}.{key} must be a table of strings")
        return {str(k): v for k, v in value.items()}

    def secret(self, key: str, env: Mapping[str, str], default_env: str) -> tuple[str | None, str]:
        """A secret from the env var named by `<key>_env` (default `default_env`), else the file.

        Returns the value and where it was looked for, for error messages (never the value).
        """
        env_name = self.text(f"{key}_env", default_env) or default_env
        value = env.get(env_name) or self.text(key)
        return (value or None), f"{env_name} or {self.section}.{key}"
