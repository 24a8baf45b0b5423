"""Where the config file, the data dir and the store are: the standard library only (platformdirs
and tomllib when they are needed), so the CLI's fast client path (exec, attach, output through the
session host) finds the host's socket without importing the rest of core."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ai_session.core.errors import InvalidInput

APP = "ai-session"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the user's config file is read from (whether or not it exists yet)."""
    env = os.environ if env is None else env
    if env.get("AI_SESSION_CONFIG"):
        return Path(env["AI_SESSION_CONFIG"])
    import platformdirs

    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def read_config(file: Path) -> dict[str, Any]:
    """The config file's tables; empty when there is none."""
    if not file.is_file():
        return {}
    import tomllib

    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"config file {file}: {exc}") from None


def data_home(env: Mapping[str, str], data: Mapping[str, Any]) -> Path:
    home = env.get("AI_SESSION_HOME") or data.get("home")
    if not home:
        import platformdirs

        home = platformdirs.user_data_dir(APP)
    return Path(home).expanduser()


def store_url(env: Mapping[str, str], data: Mapping[str, Any], home: Path) -> str:
    return str(env.get("AI_SESSION_STORE") or data.get("store") or home / "sessions.db")


def locate(env: Mapping[str, str] | None = None) -> tuple[Path, str]:
    """The data dir and the store URL, as `Config.load` finds them."""
    env = os.environ if env is None else env
    data = read_config(config_path(env))
    home = data_home(env, data)
    return home, store_url(env, data, home)
