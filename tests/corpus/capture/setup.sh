#!/usr/bin/env bash
# Install the tools the capture scripts run, at the versions the committed cases were made with.
# Needs root (apt-get) and the package registries. Python tools go to a venv and JavaScript
# tools to an npm prefix, both under $CORPUS_WORK, so nothing leaks into the project's venv.
set -euo pipefail
WORK="${CORPUS_WORK:-/tmp/corpus-capture}"
mkdir -p "$WORK"

# apt-get source needs the archive's source lists: the same archive as the binary lists.
for f in /etc/apt/sources.list.d/*.sources; do
  case "$f" in *-src.sources) continue ;; esac
  sed 's/^Types: deb$/Types: deb-src/' "$f" > "${f%.sources}-src.sources"
done
apt-get update -qq
# valgrind: json-c's tests run under it when it is there, as they did for case 36.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  dpkg-dev git make cmake ninja-build gcc g++ perl valgrind meson ripgrep \
  shellcheck cppcheck ruby ruby-rspec ruby-rspec-pending-for rubocop golang-go \
  default-jdk-headless junit4 libhamcrest-java libcommons-lang3-java \
  librust-regex-dev librust-itoa-dev >/dev/null

python3 -m venv "$WORK/tools"
"$WORK/tools/bin/pip" install -q \
  pylint==4.1.4 ruff==0.17.6 flake8==7.5.0 black==26.10.1 tox==4.67.15 uv==0.13.9 \
  urllib3==2.8.0 idna==3.20 certifi==2026.10.19.post1 charset-normalizer==3.5.3  # requests' own, for pylint

npm install -g --silent --prefix "$WORK/node-tools" \
  eslint@10.15.0 prettier@3.10.1 pyright@1.1.414 pnpm@12.21.0 \
  webpack@5.113.0 webpack-cli@7.3.1 esbuild@0.28.2 vite@8.4.0
