#!/usr/bin/env bash
# Install Debian's chromium for `make book-check`, only when it is not there already.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
echo "[book-check] /usr/bin/chromium not found: installing Debian's chromium package"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "[book-check] not root and no sudo: install chromium yourself (apt-get install chromium)" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-liberation
