"""Configuration: a TOML file in the user config dir, overridden by the seed's env vars.

    AI_SESSION_HOME         data dir (store, exports, logs); default: platformdirs user data dir
    AI_SESSION_CONFIG       config file path; default: <user config dir>/config.toml
    AI_SESSION_STORE        store URL (sqlite:///path or a path); default: <home>/sessions.db
    AI_SESSION_MAX_TOKENS   default context budget for new sessions (4096)
    AI_SESSION_COMPRESSION  "on"/"off": compress command output into its context form

The seed's `[session_management]` tables (limits per role, pool defaults, message retention,
the context window) are read into `SessionManagement`, checked when the file is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ai_session.core.errors import InvalidInput
from ai_session.core.location import APP, config_path, data_home, read_config, store_url

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (`list` loads the config)
if TYPE_CHECKING:
    from typing import Any

# The context budget of a new session, unless configured. (Defined here, not with the models:
# loading the config imports no pydantic, for the commands that never build a model.)
DEFAULT_MAX_TOKENS = 4096

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(f"{name} must be on/off (got {value!r})")


def _parse_int(name: str, value: Any, *, minimum: int = 1) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a whole number (got {value!r})") from None
    if isinstance(value, bool) or (isinstance(value, float) and value != number):
        raise InvalidInput(f"{name} must be a whole number (got {value!r})")
    if number < minimum:
        raise InvalidInput(f"{name} must be {'positive' if minimum == 1 else f'at least {minimum}'} (got {number})")
    return number


def _parse_seconds(name: str, value: Any) -> int:
    """A duration: a number of seconds, or text like "30m", "12h", "7d"."""
    if isinstance(value, str):
        from ai_session.core.durations import parse_duration

        try:
            return int(parse_duration(value).total_seconds())
        except InvalidInput as exc:
            raise InvalidInput(f"{name}: {exc}") from None
    return _parse_int(name, value)


@dataclass(frozen=True)
class SessionManagement:
    """The seed's `[session_management]` settings; None means "no limit" / "not set"."""

    max_sessions_per_role: int | None = None  # live (active, idle, paused) sessions of one role
    pool_min_idle: int = 1  # defaults of a new pool
    pool_max_idle: int = 4
    pool_idle_timeout: int = 3600  # seconds
    max_messages: int | None = None  # retention, applied by `optimize` and `clear`
    max_age: int | None = None  # seconds
    retention_compression: bool = True  # summarize what retention removes (the summary stays)
    context_size: int | None = None  # default budget of new sessions
    context_strategy: str | None = None
    preserve_important: bool = True

    @property
    def retention(self) -> bool:
        return self.max_messages is not None or self.max_age is not None

    @classmethod
    def parse(cls, table: Any) -> SessionManagement:
        if table is None:
            return cls()
        if not isinstance(table, dict):
            raise InvalidInput("[session_management] must be a table")
        key = "session_management"

        def section(name: str) -> dict[str, Any]:
            value = table.get(name) or {}
            if not isinstance(value, dict):
                raise InvalidInput(f"[{key}.{name}] must be a table")
            return value

        pool, retention, window = section("pool_config"), section("message_retention"), section("context_window")
        known = {"max_sessions_per_role", "pool_config", "message_retention", "context_window"}
        for where, keys, allowed in ((key, table, known),
                                     (f"{key}.pool_config", pool, {"min_idle", "max_idle", "idle_timeout"}),
                                     (f"{key}.message_retention", retention, {"max_messages", "max_age", "compression"}),
                                     (f"{key}.context_window", window, {"size", "strategy", "preserve_important"})):
            unknown = sorted(set(keys) - allowed)
            if unknown:
                raise InvalidInput(f"[{where}] has unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")
        defaults = cls()
        min_idle = _parse_int(f"{key}.pool_config.min_idle", pool.get("min_idle", defaults.pool_min_idle), minimum=0)
        max_idle = _parse_int(f"{key}.pool_config.max_idle", pool.get("max_idle", max(min_idle, defaults.pool_max_idle)),
                              minimum=0)
        if max_idle < min_idle:
            raise InvalidInput(f"{key}.pool_config: max_idle ({max_idle}) is below min_idle ({min_idle})")
        strategy = window.get("strategy")
        if strategy is not None:
            from ai_session.core.context import check_strategy

            check_strategy(str(strategy))
        preserve = _parse_bool(f"{key}.context_window.preserve_important", window.get("preserve_important", True))
        if strategy == "preserve_important" and not preserve:
            raise InvalidInput(f"{key}.context_window: strategy preserve_important contradicts preserve_important = false")
        limit = table.get("max_sessions_per_role")
        return cls(
            max_sessions_per_role=None if limit is None else _parse_int(f"{key}.max_sessions_per_role", limit),
            pool_min_idle=min_idle,
            pool_max_idle=max_idle,
            pool_idle_timeout=_parse_seconds(f"{key}.pool_config.idle_timeout",
                                             pool.get("idle_timeout", defaults.pool_idle_timeout)),
            max_messages=None if retention.get("max_messages") is None
            else _parse_int(f"{key}.message_retention.max_messages", retention["max_messages"]),
            max_age=None if retention.get("max_age") is None
            else _parse_seconds(f"{key}.message_retention.max_age", retention["max_age"]),
            retention_compression=_parse_bool(f"{key}.message_retention.compression", retention.get("compression", True)),
            context_size=None if window.get("size") is None else _parse_int(f"{key}.context_window.size", window["size"]),
            context_strategy=str(strategy) if strategy is not None else None,
            preserve_important=preserve,
        )  # fmt: skip


@dataclass
class Config:
    home: Path
    store_url: str
    max_tokens: int = DEFAULT_MAX_TOKENS
    compression: bool = True
    config_file: Path | None = None
    user: str = field(default_factory=lambda: os.environ.get("USER") or "local")
    # Free-form sections later features read: [providers.<name>], [prices."<model>"], [pool.<role>].
    sections: dict[str, Any] = field(default_factory=dict)
    session_management: SessionManagement = field(default_factory=SessionManagement)

    @property
    def log_dir(self) -> Path:
        """The user log dir, or <home>/logs when AI_SESSION_HOME moves everything."""
        if os.environ.get("AI_SESSION_HOME"):
            return self.home / "logs"
        import platformdirs

        return Path(platformdirs.user_log_dir(APP))

    @property
    def export_dir(self) -> Path:
        return self.home / "exports"

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        file = config_path(env)
        data = read_config(file)
        home = data_home(env, data)
        store = store_url(env, data, home)
        managed = SessionManagement.parse(data.get("session_management"))
        max_tokens = _parse_int(
            "AI_SESSION_MAX_TOKENS",
            env.get("AI_SESSION_MAX_TOKENS") or managed.context_size or data.get("max_tokens", DEFAULT_MAX_TOKENS),
        )
        compression = _parse_bool(
            "AI_SESSION_COMPRESSION", env.get("AI_SESSION_COMPRESSION", data.get("compression", True))
        )
        sections = {k: v for k, v in data.items() if isinstance(v, dict)}
        user = str(data.get("user") or env.get("USER") or "local")
        return cls(
            home=Path(home),
            store_url=store,
            max_tokens=max_tokens,
            compression=compression,
            config_file=Path(file) if os.path.isfile(file) else None,
            user=user,
            sections=sections,
            session_management=managed,
        )
