"""Where the config file, the data dir and the store are: the standard library only, in plain
strings (no pathlib, and platformdirs and tomllib only when they are needed), so the CLI's fast
client path (exec, attach, output through the session host) finds the host's socket without
importing the rest of core."""

from __future__ import annotations

import os
import sys

from ai_session.core.errors import InvalidInput

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (this is on the client path)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

APP = "ai-session"
# platformdirs' user dirs on Linux: the XDG variable, else this under the home directory.
XDG = {"config": ("XDG_CONFIG_HOME", ".config"), "data": ("XDG_DATA_HOME", ".local/share")}


def user_dir(kind: str) -> str:
    """platformdirs' user config or data dir of the app. On Linux, in the usual case (the XDG
    variable unset or absolute, HOME absolute), the XDG rule platformdirs applies is applied
    here: importing platformdirs costs more than the rest of an `exec` through the host
    (a test checks that both answer the same)."""
    var, default = XDG[kind]
    if sys.platform == "linux" and "ANDROID_DATA" not in os.environ:
        base, home = os.environ.get(var, ""), os.environ.get("HOME", "")
        if os.path.isabs(base):
            return os.path.join(base, APP)
        if not base and os.path.isabs(home):
            return os.path.join(home, default, APP)
    import platformdirs

    return str(platformdirs.user_config_dir(APP) if kind == "config" else platformdirs.user_data_dir(APP))


def config_path(env: Mapping[str, str] | None = None) -> str:
    """Where the user's config file is read from (whether or not it exists yet)."""
    env = os.environ if env is None else env
    return env.get("AI_SESSION_CONFIG") or os.path.join(user_dir("config"), "config.toml")


def read_config(file: str) -> dict[str, Any]:
    """The config file's tables; empty when there is none."""
    if not os.path.isfile(file):
        return {}
    import tomllib

    try:
        with open(file, encoding="utf-8") as f:
            return tomllib.loads(f.read())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"config file {file}: {exc}") from None


def data_home(env: Mapping[str, str], data: Mapping[str, Any]) -> str:
    return os.path.expanduser(env.get("AI_SESSION_HOME") or data.get("home") or user_dir("data"))


def store_url(env: Mapping[str, str], data: Mapping[str, Any], home: str) -> str:
    return str(env.get("AI_SESSION_STORE") or data.get("store") or os.path.join(home, "sessions.db"))


def locate(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The data dir and the store URL, as `Config.load` finds them."""
    env = os.environ if env is None else env
    data = read_config(config_path(env))
    home = data_home(env, data)
    return home, store_url(env, data, home)
