"""Configuration: a TOML file in the user config dir, overridden by the seed's env vars.

    AI_SESSION_HOME         data dir (store, exports, logs); default: platformdirs user data dir
    AI_SESSION_CONFIG       config file path; default: <user config dir>/config.toml
    AI_SESSION_STORE        store URL (sqlite:///path or a path); default: <home>/sessions.db
    AI_SESSION_MAX_TOKENS   default context budget for new sessions (4096)
    AI_SESSION_COMPRESSION  "on"/"off": compress command output into its context form
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from ai_session.core.errors import InvalidInput
from ai_session.core.models import DEFAULT_MAX_TOKENS

APP = "ai-session"
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


def _parse_int(name: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a whole number (got {value!r})") from None
    if number <= 0:
        raise InvalidInput(f"{name} must be positive (got {number})")
    return number


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the user's config file is read from (whether or not it exists yet)."""
    env = os.environ if env is None else env
    return Path(env.get("AI_SESSION_CONFIG") or Path(platformdirs.user_config_dir(APP)) / "config.toml")


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

    @property
    def log_dir(self) -> Path:
        """The user log dir, or <home>/logs when AI_SESSION_HOME moves everything."""
        if os.environ.get("AI_SESSION_HOME"):
            return self.home / "logs"
        return Path(platformdirs.user_log_dir(APP))

    @property
    def export_dir(self) -> Path:
        return self.home / "exports"

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        file = config_path(env)
        data: dict[str, Any] = {}
        if file.is_file():
            try:
                data = tomllib.loads(file.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"config file {file}: {exc}") from None
        home = Path(env.get("AI_SESSION_HOME") or data.get("home") or platformdirs.user_data_dir(APP))
        home = home.expanduser()
        store_url = env.get("AI_SESSION_STORE") or data.get("store") or str(home / "sessions.db")
        max_tokens = _parse_int(
            "AI_SESSION_MAX_TOKENS", env.get("AI_SESSION_MAX_TOKENS") or data.get("max_tokens", DEFAULT_MAX_TOKENS)
        )
        compression = _parse_bool(
            "AI_SESSION_COMPRESSION", env.get("AI_SESSION_COMPRESSION", data.get("compression", True))
        )
        sections = {k: v for k, v in data.items() if isinstance(v, dict)}
        user = str(data.get("user") or env.get("USER") or "local")
        return cls(
            home=home,
            store_url=str(store_url),
            max_tokens=max_tokens,
            compression=compression,
            config_file=file if file.is_file() else None,
            user=user,
            sections=sections,
        )
