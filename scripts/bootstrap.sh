#!/usr/bin/env bash
# Installs what the suite needs and is missing: the Debian packages of the embedded stack and the
# project's virtualenv. Idempotent; a second run with everything in place takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(nginx libnginx-mod-rtmp ffmpeg postgresql redis-server clickhouse-server clickhouse-client nftables
                 chromium chromium-driver
                 gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly)
VENV=${NOVA_VENV:-.venv}

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "bootstrap: these Debian packages are missing: ${missing[*]}" >&2
        echo "bootstrap: install them as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    echo "bootstrap: installing ${missing[*]}"
    # The suite runs every server itself; keep apt from starting system services on install.
    added_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
        added_policy=yes
    fi
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    [ -n "$added_policy" ] && rm -f /usr/sbin/policy-rc.d
fi

stamp="$VENV/.installed"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ reference_service/pyproject.toml -nt "$stamp" ]; then
    echo "bootstrap: installing the suite and the reference service into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    # Two packages: the suite (with its dev tools) and the service the embedded stack runs.
    "$VENV/bin/pip" install -q -e '.[dev,load]' -e ./reference_service
    touch "$stamp"
fi

# hls.js (the @browser scenarios) and the Allure command line (make report), from package.json:
# installed here, never fetched while the suite runs.
if [ ! -f node_modules/.installed ] || [ package.json -nt node_modules/.installed ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "bootstrap: npm is needed for hls.js and the Allure command line; install Node.js and npm" >&2
        exit 1
    fi
    echo "bootstrap: installing the npm packages of package.json"
    npm install --no-audit --no-fund --no-package-lock --loglevel=error
    touch node_modules/.installed
fi
