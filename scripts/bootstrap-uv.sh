#!/usr/bin/env bash
# Prints the path of a usable `uv`, installing a pinned one into .cache/uv if none is on PATH.
# Tries, in order: uv on PATH; a previous install in .cache/uv; pip into a private venv;
# pip --user (for Pythons without the venv module).
set -euo pipefail
UV_VERSION="${UV_VERSION:-0.13.8}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${WSIS_CACHE_DIR:-$root/.cache}/uv"

if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
if [ -x "$cache/bin/uv" ]; then echo "$cache/bin/uv"; exit 0; fi

echo "installing uv $UV_VERSION into $cache" >&2
if python3 -m venv "$cache" >/dev/null 2>&1 && "$cache/bin/python" -m pip --version >/dev/null 2>&1; then
  "$cache/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" >&2
  echo "$cache/bin/uv"
  exit 0
fi
rm -rf "$cache"
python3 -m pip install --quiet --user --disable-pip-version-check "uv==$UV_VERSION" >&2 \
  || python3 -m pip install --quiet --user --break-system-packages "uv==$UV_VERSION" >&2
user_bin="$(python3 -m site --user-base)/bin"
echo "$user_bin/uv"
