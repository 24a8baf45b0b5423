# ai-session shell integration for bash, sourced as the rc file of an interactive bash.
#
# Emits OSC 133 marks carrying a per-shell nonce (aid=...) so the reader can tell them from
# look-alikes that a command prints:
#   A  prompt start          (PS1)
#   B  prompt end            (PS1)
#   C  command output start  (PS0: after the line is read, before it runs)
#   D  command finished      (PROMPT_COMMAND): D;<exit>;aid=..;cwd=<pct-enc>[;cmd=<pct-enc>][;sec=1]
# Programmatic commands arrive as the alias __ais_x: the command text, its stdin and cwd are
# read from a private file (never typed, emptied once read), so nothing depends on echoed
# text and multi-line commands stay one command.
# sec=1: secret-looking variables were set or changed; their NAME=value records are in
# $__ais_dir/secrets for ai-session's redactor (which deletes the file).

__ais_nonce=${__AIS_NONCE-}
__ais_dir=${__AIS_DIR-}
__ais_user_rc=${__AIS_USER_RC-0}
__ais_save_each=${__AIS_SAVE_EACH-0}  # 1: leave cwd and env after each command that can change them
unset __AIS_NONCE __AIS_DIR __AIS_USER_RC __AIS_SAVE_EACH

if [[ $__ais_user_rc == 1 ]]; then
  [[ -r /etc/bash.bashrc ]] && . /etc/bash.bashrc
  [[ -r ~/.bashrc ]] && . ~/.bashrc
fi

# Keep the user's history file clean; in-memory history stays for Up-arrow when attached.
unset HISTFILE
HISTCONTROL=
HISTIGNORE=
shopt -s expand_aliases cmdhist lithist  # a typed multi-line command is reported as typed
bind 'set bell-style none' 2>/dev/null

__ais_enc() {  # percent-encode the few bytes that would break a mark; no subshell
  local s=${1//%/%25}
  s=${s//;/%3B}; s=${s//$'\a'/%07}; s=${s//$'\e'/%1B}; s=${s//$'\n'/%0A}; s=${s//$'\r'/%0D}
  __ais_r=$s
}

__ais_pre() {  # runs first on an __ais_x line
  __ais_via_x=1
  local hist
  { IFS= read -r -d '' __ais_cwd; IFS= read -r -d '' __ais_in; IFS= read -r -d '' hist
    IFS= read -r -d '' __ais_cmd; } < "$__ais_dir/cmd"
  : > "$__ais_dir/cmd"  # read: nothing of the command line stays on disk
  # Replace the "__ais_x" history entry by the real command (or drop it for internal ones).
  builtin history -d -1 2>/dev/null
  [[ $hist == 1 ]] && builtin history -s -- "$__ais_cmd"
  # No job control for programmatic commands: no "[1] 1234" notices in their output. The
  # engine finds a command's processes by start time, not by process group.
  set +m
  __ais_back=
  if [[ -n $__ais_cwd ]]; then
    __ais_back=$PWD
    builtin cd -- "$__ais_cwd" || { __ais_cmd='return 1 2>/dev/null || (exit 1)'; __ais_back=; }
  fi
  return 0
}

alias __ais_x='__ais_pre; builtin eval -- "$__ais_cmd" < "$__ais_in"'

declare -gA __ais_seen=()
# Words of a command line that can set variables in this shell (besides NAME=value).
__ais_sets='(^|[^[:alnum:]_])(export|source|declare|typeset|readonly|read|eval|set|mapfile|readarray|printf|local|let|\.)([^[:alnum:]_/]|$)'
__ais_scan() {  # report secret-looking variables that are new or changed (no subshell, no fork)
  local n v
  for n in ${!A*} ${!B*} ${!C*} ${!D*} ${!E*} ${!F*} ${!G*} ${!H*} ${!I*} ${!J*} ${!K*} ${!L*} ${!M*} \
           ${!N*} ${!O*} ${!P*} ${!Q*} ${!R*} ${!S*} ${!T*} ${!U*} ${!V*} ${!W*} ${!X*} ${!Y*} ${!Z*} \
           ${!a*} ${!b*} ${!c*} ${!d*} ${!e*} ${!f*} ${!g*} ${!h*} ${!i*} ${!j*} ${!k*} ${!l*} ${!m*} \
           ${!n*} ${!o*} ${!p*} ${!q*} ${!r*} ${!s*} ${!t*} ${!u*} ${!v*} ${!w*} ${!x*} ${!y*} ${!z*}; do
    case ${n^^} in
      PWD|OLDPWD|PATH|MANPATH|INFOPATH|CDPATH|BASH_*|XAUTHORITY|SSH_AUTH_SOCK) continue ;;
      *KEY*|*PASS*|*PWD*|*PAT*|*SECRET*|*TOKEN*|*CRED*|*AUTH*|*PRIVATE*) ;;
      *) continue ;;
    esac
    v=${!n-}
    (( ${#v} >= 8 )) || continue
    [[ ${__ais_seen[$n]-} == "$v" ]] && continue
    __ais_seen[$n]=$v
    builtin printf '%s=%s\0' "$n" "$v" >> "$__ais_dir/secrets"
    __ais_sec=";sec=1"
  done
}

__ais_precmd() {
  local st=$? cmd= line=
  __ais_sec=
  if [[ -n ${__ais_ran-} ]]; then
    if [[ -z ${__ais_via_x-} ]]; then  # typed by an attached user: report the line
      cmd=$(HISTTIMEFORMAT= builtin history 1)
      [[ $cmd =~ ^[[:space:]]*[0-9]+\*?[[:space:]]+ ]] && cmd=${cmd:${#BASH_REMATCH[0]}}
      line=$cmd
      __ais_enc "$cmd"; cmd=";cmd=$__ais_r"
    else
      line=${__ais_cmd-}
    fi
    # Only a line that can set a variable in this shell is followed by a scan (it costs ~1 ms).
    if [[ $line == *=* || $line =~ $__ais_sets ]]; then
      __ais_scan
      [[ $__ais_save_each == 1 ]] && __ais_save
    fi
  fi
  [[ -n ${__ais_via_x-} ]] && set -m
  __ais_ran= __ais_via_x=
  # exec --cwd: back to the shell's own directory (also after an interrupt cut the line short)
  if [[ -n ${__ais_back-} ]]; then builtin cd -- "$__ais_back"; __ais_back=; fi
  __ais_enc "$PWD"
  builtin printf '\e]133;D;%s;aid=%s;cwd=%s%s%s\a' "$st" "$__ais_nonce" "$__ais_r" "$cmd" "$__ais_sec"
  return $st
}

__ais_save() {  # on exit: leave cwd and env for the next shell of this session
  builtin printf '%s\0' "$PWD" > "$__ais_dir/state.cwd" 2>/dev/null
  # Secret-looking variables are left out: nothing restores them, so nothing need keep them.
  command env -0 2>/dev/null | command grep -zivE '^[^=]*(key|pass|pwd|pat|secret|token|cred|auth|private)[^=]*=' \
    > "$__ais_dir/state.env" 2>/dev/null
}
trap '__ais_save' EXIT

if [[ $__ais_user_rc == 1 ]]; then
  PROMPT_COMMAND="__ais_precmd${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
  PS1="\[\e]133;A;aid=$__ais_nonce\a\]${PS1-\$ }\[\e]133;B;aid=$__ais_nonce\a\]"
else
  PROMPT_COMMAND=__ais_precmd
  PS1="\[\e]133;A;aid=$__ais_nonce\a\]\w \\$ \[\e]133;B;aid=$__ais_nonce\a\]"
fi
# ${__ais_z[__ais_ran=1]} expands to nothing but sets the flag: PS0 forks nothing.
PS0="\e]133;C;aid=$__ais_nonce\a\${__ais_z[__ais_ran=1]}${PS0-}"
PS2=
