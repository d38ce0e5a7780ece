#!/usr/bin/env bash
# Install the reading engines the EPUB tests drive: Debian's Chromium (never a downloaded browser),
# epub.js, playwright-core and DAISY Ace at the versions in package-lock.json. Run as root on Debian;
# CI calls it before `make test`.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -q
  apt-get install -y -q chromium
fi
if ! command -v npm >/dev/null 2>&1; then
  apt-get update -q
  apt-get install -y -q nodejs npm
fi
# --ignore-scripts: no install script runs, so puppeteer and playwright download no browser.
npm ci --ignore-scripts --no-audit --no-fund
