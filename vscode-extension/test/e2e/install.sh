#!/usr/bin/env bash
# Installs what the end-to-end test needs, once: code-server 4.96.4 (VS Code 1.96, the last
# release that runs on Node 20), playwright-core and Debian's Chromium.
# Idempotent: a second run finds the stamp file and returns at once.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CACHE="${AI_SESSION_E2E_CACHE:-$ROOT/.cache/vscode-e2e}"
CODE_SERVER_VERSION=4.96.4
STAMP="$CACHE/.installed-$CODE_SERVER_VERSION"

if [ ! -x /usr/bin/chromium ]; then
  echo "[e2e] installing Debian's chromium"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [ -f "$STAMP" ]; then
  exit 0
fi

echo "[e2e] installing code-server $CODE_SERVER_VERSION and playwright-core into $CACHE"
mkdir -p "$CACHE"
cd "$CACHE"
[ -f package.json ] || echo '{"name":"ai-session-vscode-e2e-cache","private":true}' > package.json
# --ignore-scripts: code-server's postinstall fetches things this machine may not reach;
# the native modules are rebuilt explicitly below instead.
npm install --ignore-scripts --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" playwright-core
(
  cd node_modules/code-server/lib/vscode
  # The shrinkwrap pins a git dependency that cannot be fetched; resolve from the registry.
  rm -f npm-shrinkwrap.json
  npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
  npm rebuild node-pty @vscode/spdlog @parcel/watcher native-watchdog @vscode/deviceid
)
npm rebuild argon2
touch "$STAMP"
echo "[e2e] installed"
