"""Which variables of a shell's environment are saved for its next shell, and which may be restored.

A saved environment is data: it comes back from the store (or, for an imported session,
from a file someone else wrote). Variables that decide what code a shell or its programs
run -- where commands are found, what is preloaded, what a prompt or a pager executes --
are never saved and never restored; neither are secrets nor the shell's own bookkeeping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ai_session.core.redact import is_secret_name

# Names and prefixes that make a shell or a program run code chosen by whoever wrote them.
_EXECUTABLE = re.compile(
    r"^(?:PATH|MANPATH|INFOPATH|CDPATH|ENV|BASH_ENV|SHELL|SHELLOPTS|BASHOPTS|GLOBIGNORE|IFS|PS\d|PROMPT_COMMAND"
    r"|PROMPT|RPROMPT|ZDOTDIR|INPUTRC|HISTFILE|HISTCONTROL|HOME|TMPDIR|TERMINFO|TERMINFO_DIRS"
    r"|LD_\w*|DYLD_\w*|BASH_FUNC_.*|GCONV_PATH|LOCPATH|NLSPATH|MALLOC_\w*|GLIBC_TUNABLES|HOSTALIASES"
    r"|PYTHON\w*|VIRTUAL_ENV|CONDA_\w*|PIP_\w*|NODE_OPTIONS|NODE_PATH|NPM_CONFIG_\w*|YARN_\w*"
    r"|PERL5\w*|PERLLIB|PERL_\w*|RUBY\w*|GEM_\w*|BUNDLE_\w*|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS"
    r"|CLASSPATH|CARGO_\w*|RUSTC_WRAPPER|RUSTC|RUSTFLAGS|GOFLAGS|GOPATH|GOROOT|CC|CXX|CPP|LD|MAKEFLAGS"
    r"|GIT_\w*|SSH_ASKPASS|SUDO_ASKPASS|PAGER|GIT_PAGER|MANPAGER|LESSOPEN|LESSCLOSE|EDITOR|VISUAL|BROWSER"
    r"|TERM|COLUMNS|LINES|SHLVL|PWD|OLDPWD|_)$",
    re.IGNORECASE,
)


def executable_name(name: str) -> bool:
    """Whether a variable decides what code runs (PATH, LD_PRELOAD, BASH_FUNC_x%%, PS1, ...)."""
    return bool(_EXECUTABLE.match(name)) or "%" in name or not name.isidentifier()


def restorable(env: Mapping[str, str]) -> dict[str, str]:
    """The variables of a saved environment a new shell may start with: no code-running
    variables, no secrets, nothing of ai-session's own."""
    return {
        k: v
        for k, v in env.items()
        if isinstance(v, str) and not executable_name(k) and not is_secret_name(k) and not k.startswith("__AIS")
        and "\0" not in v
    }
