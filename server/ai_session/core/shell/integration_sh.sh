# ai-session shell integration for a POSIX sh (the fallback when bash is missing), read via $ENV.
# Without prompt hooks only programmatic commands get boundaries: __ais_x prints the C and D
# marks itself. pre.sh and run are written by ai-session for each command and emptied once read.
__ais_nonce=$__AIS_NONCE
__ais_dir=$__AIS_DIR
unset __AIS_NONCE __AIS_DIR __AIS_USER_RC ENV
__ais_d() {
  printf '\033]133;D;%s;aid=%s;cwd=%s\007' "$1" "$__ais_nonce" "$(printf %s "$PWD" | sed 's/%/%25/g; s/;/%3B/g')"
}
alias __ais_x='. "$__ais_dir/pre.sh"; : > "$__ais_dir/pre.sh"; . "$__ais_dir/run" < "$__ais_in"; __ais_st=$?; : > "$__ais_dir/run"; if [ -n "$__ais_back" ]; then cd -- "$__ais_back"; __ais_back=; fi; __ais_d $__ais_st'
trap 'printf "%s\0" "$PWD" > "$__ais_dir/state.cwd"; env -0 2>/dev/null | grep -zivE "^[^=]*(key|pass|pwd|pat|secret|token|cred|auth|private)[^=]*=" > "$__ais_dir/state.env" 2>/dev/null' EXIT
PS1=$(printf '\033]133;A;aid=%s\007$ \033]133;B;aid=%s\007' "$__ais_nonce" "$__ais_nonce")
PS2=
