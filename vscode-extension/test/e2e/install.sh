#!/usr/bin/env bash
# Installs what the end-to-end test needs, once per code-server version: code-server (VS Code in
# a browser), playwright-core and Debian's Chromium.
#
#   CODE_SERVER_VERSION=4.96.4 (default)  VS Code 1.96, the last release that runs on Node 20
#   CODE_SERVER_VERSION=4.139.1 E2E_NODE=24  a current release, run by the Node the npm registry
#                                          ships as the `node` package (installed here too)
#
# Idempotent: a second run finds the stamp file and returns at once.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.96.4}"
E2E_NODE="${E2E_NODE:-}"
CACHE="${AI_SESSION_E2E_CACHE:-$ROOT/.cache/vscode-e2e-$CODE_SERVER_VERSION}"
STAMP="$CACHE/.installed"

if [ ! -x /usr/bin/chromium ]; then
  echo "[e2e] installing Debian's chromium"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [ -f "$STAMP" ]; then
  exit 0
fi

echo "[e2e] installing code-server $CODE_SERVER_VERSION${E2E_NODE:+ (Node $E2E_NODE)} and playwright-core into $CACHE"
mkdir -p "$CACHE"
cd "$CACHE"
[ -f package.json ] || echo '{"name":"ai-session-vscode-e2e-cache","private":true}' > package.json
if [ -n "$E2E_NODE" ]; then
  # A real Node binary from the registry (the `node` package). It ships no headers, so the
  # native modules below are built by this machine's Node: they are all Node-API addons, whose
  # ABI is stable across Node versions, so the newer Node loads them as they are.
  npm install --no-audit --no-fund --loglevel=error "node@$E2E_NODE"
  echo "[e2e] code-server will run on node $("$CACHE/node_modules/node/bin/node" --version)"
fi
# --ignore-scripts: code-server's postinstall fetches things this machine may not reach;
# the native modules are rebuilt explicitly below instead.
npm install --ignore-scripts --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" playwright-core
(
  cd node_modules/code-server/lib/vscode
  # A shrinkwrap may pin a git dependency that cannot be fetched; resolve from the registry.
  rm -f npm-shrinkwrap.json
  npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
  npm rebuild node-pty @vscode/spdlog @parcel/watcher native-watchdog @vscode/deviceid
)
npm rebuild argon2
touch "$STAMP"
echo "[e2e] installed"
