#!/usr/bin/env bash
# Runs every test of T2I Studio (unit, component, integration, end-to-end in Chromium) and ends with
# one line: "N passed, N failed, N skipped", summed over all test projects.
set -uo pipefail
cd "$(dirname "$0")"

# The browser tests drive Debian's Chromium; never a downloaded browser.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "Installing Chromium for the browser tests (apt-get install chromium)..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || { echo "Could not install chromium with apt-get." >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
  else
    echo "Chromium is needed for the browser tests. Install it with:" >&2
    echo "  sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

# The README's API examples are run by a test with curl.
if ! command -v curl >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "Installing curl for the README's API examples (apt-get install curl)..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null \
      || { echo "Could not install curl with apt-get." >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
  else
    echo "curl is needed for the README's API examples. Install it with:" >&2
    echo "  sudo apt-get install -y curl" >&2
    exit 1
  fi
fi

# Company accounts' tests: an SMTP server on loopback (Debian's aiosmtpd, for Debian's python3) and an OpenID
# provider (the npm package oidc-provider, installed from tools/oidc-provider's lock file).
if ! /usr/bin/python3 -c "import aiosmtpd" >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "Installing aiosmtpd for the email tests (apt-get install python3-aiosmtpd)..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-aiosmtpd >/dev/null \
      || { echo "Could not install python3-aiosmtpd with apt-get." >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
  else
    echo "python3-aiosmtpd is needed for the email tests. Install it with:" >&2
    echo "  sudo apt-get install -y python3-aiosmtpd" >&2
    exit 1
  fi
fi
node_major=$(node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p')
if [ "${node_major:-0}" -lt 20 ]; then
  echo "Node.js 20 or later is needed for the sign-in tests' OpenID provider (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "Install it from your distribution or nodejs.org's packages, then run ./test.sh again." >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
if [ -f tools/oidc-provider/package-lock.json ] && [ ! -d tools/oidc-provider/node_modules/oidc-provider ]; then
  echo "Installing the OpenID provider for the sign-in tests (npm ci in tools/oidc-provider)..."
  (cd tools/oidc-provider && npm ci --no-audit --no-fund --loglevel=error) \
    || { echo "Could not install tools/oidc-provider with npm ci." >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi

# PostgreSQL and Redis on loopback, with their own data folders and ports, stopped when the tests end.
services=tools/test-services/services.sh
if ! service_env=$("$services" start); then
  echo "Could not start PostgreSQL and Redis for the tests (see above)." >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
eval "$service_env"
trap '"$services" stop' EXIT

results=artifacts/test-results
rm -rf "$results"
# A test that hangs is stopped after 10 minutes and named as failed, instead of holding CI until its limit.
dotnet test T2IStudio.sln --results-directory "$results" --blame-hang-timeout 10m --blame-hang-dump-type none "$@"
status=$?

passed=0; failed=0; skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$(value total); executed=$(value executed)
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + total - executed))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the build or a test host failed before any test could report
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
