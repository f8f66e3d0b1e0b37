#!/usr/bin/env bash
# Sets up everything kiez needs on a fresh Debian-like machine, and does nothing that is already
# done, so it is safe (and quick) to run again:
#   - Debian packages a build needs (libgmp-dev for fastecdsa, a py-libp2p dependency; node/npm),
#     and Chromium with its driver for the browser tests
#   - the virtual environment in .venv/ with kiez and its pinned Python packages
#   - the pinned JavaScript tools in node_modules/ (Anvil, forge, solc, OpenZeppelin for the gas
#     reference, js-libp2p gossipsub for the gossip reference)
# Used by scripts/devnet.sh and scripts/test.sh; run it alone to only set up.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        say "need root to run: $*  (install it yourself, then run this again)"; return 1; fi
}

apt_install() {
    # Installs the Debian packages named, updating the package index once if needed.
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null; then
        say "please install: ${missing[*]} (no apt-get on this machine)"; return 1
    fi
    say "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
        as_root apt-get update -q >/dev/null
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
    }
}

# 1. System packages. gcc + libgmp-dev build fastecdsa; python3-venv provides `python3 -m venv`.
if command -v dpkg >/dev/null; then
    apt_install libgmp-dev gcc
    command -v npm >/dev/null || apt_install nodejs npm
    # The browser tests drive Debian's Chromium through its driver (Selenium); no browser download.
    { command -v chromium >/dev/null && command -v chromedriver >/dev/null; } || apt_install chromium chromium-driver \
        || say "no Chromium: the browser tests will be skipped (install chromium and chromium-driver)"
    # Emoji (the page's reactions) in the browser tests' screenshots; a desktop has such a font.
    apt_install fonts-noto-color-emoji || say "no emoji font: reactions show as boxes in headless screenshots"
    # The network-namespace tests and `kiez devnet --netns` (root only) need `ip` and iptables.
    if [ "$(id -u)" -eq 0 ]; then
        command -v ip >/dev/null || apt_install iproute2
        command -v iptables >/dev/null || apt_install iptables
    fi
fi
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    say "kiez needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)"; exit 1; }

# 2. Python: .venv with kiez (editable) and the locked versions in constraints.txt.
stamp_of() { cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1; }
if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    "$PYTHON" -m venv .venv || { apt_install python3-venv && "$PYTHON" -m venv .venv; }
fi
if [ "$(cat .venv/.kiez-stamp 2>/dev/null)" != "$(stamp_of)" ]; then
    say "installing Python packages into .venv (first time: about a minute)"
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
    stamp_of > .venv/.kiez-stamp
fi

# 3. JavaScript tools, exactly as locked. Anvil's and forge's binaries come as optional dependencies
# for this platform, so their install scripts are not needed (--ignore-scripts).
if ! cmp -s package-lock.json node_modules/.kiez-lock 2>/dev/null; then
    say "installing JavaScript tools into node_modules (anvil, forge, solc, the benchmark references)"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.kiez-lock
fi
