#!/usr/bin/env bash
# Install the reading systems the tests drive: Debian's Chromium (never a downloaded browser) and
# Calibre, and epub.js, playwright-core, DAISY Ace and pdf.js at the versions in package-lock.json. Run as root
# on Debian; CI calls it before `make test`.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
# $CHROMIUM names another build of Chromium where Debian's is not to be had (GitHub's Ubuntu runners
# ship Google Chrome; Ubuntu's chromium package is only a snap).
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v ebook-convert >/dev/null 2>&1 || missing+=(calibre)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# --ignore-scripts: no install script runs, so puppeteer and playwright download no browser.
npm ci --ignore-scripts --no-audit --no-fund
