#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs them all: static checks
# (fmt, lint, type check, schema freshness) and `deno test`. The last line is
# "N passed, M failed, K skipped", read from deno test's own summary.
#
# Deno comes from npm (npx -y deno@2.9.6 task test provides it); Debian packages
# (python3-pymodbus, mosquitto, socat, influxdb, postgresql, openssl, git, gnupg; chromium, ripgrep
# and build headers for the VS Code extension's e2e test) are installed with apt-get when running
# as root.
set -uo pipefail
cd "$(dirname "$0")/.."

DENO_VERSION=2.9.6
if ! command -v deno >/dev/null 2>&1 || ! deno --version | grep -q "deno ${DENO_VERSION}"; then
  echo "test.sh: installing deno ${DENO_VERSION} from npm" >&2
  npm install -g "deno@${DENO_VERSION}" >&2 || { echo "0 passed, 1 failed"; exit 1; }
fi

missing=()
/usr/bin/python3 -c "import pymodbus" >/dev/null 2>&1 || missing+=(python3-pymodbus)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v socat >/dev/null 2>&1 || missing+=(socat)
command -v influxd >/dev/null 2>&1 || missing+=(influxdb)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
# The VS Code extension's e2e test: Chromium, ripgrep, and headers code-server's modules build with.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
for p in build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
command -v tshark >/dev/null 2>&1 || missing+=(tshark)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "test.sh: installing ${missing[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq "${missing[@]}") >&2 ||
      echo "test.sh: apt-get failed; tests needing ${missing[*]} will report themselves skipped" >&2
  else
    echo "test.sh: not root, cannot install ${missing[*]}; tests needing them report themselves skipped" >&2
  fi
fi

deno install --frozen >&2 || deno install >&2 || { echo "0 passed, 1 failed"; exit 1; }

# The VS Code extension: its npm modules, type check and .vsix (a failure fails the run), and
# code-server + playwright-core for its e2e test (cached; the test reports itself skipped
# without them).
vsix_status=0
deno task vsix >&2 || { echo "test.sh: deno task vsix failed" >&2; vsix_status=1; }
bash editors/vscode/scripts/install_code_server.sh >&2 ||
  echo "test.sh: code-server install failed; the VS Code e2e test will report itself skipped" >&2

status=0
[ "$vsix_status" = "0" ] || status=1
echo "== static checks" >&2
deno fmt --check >&2 || { echo "test.sh: deno fmt --check failed (run deno fmt)" >&2; status=1; }
deno lint >&2 || { echo "test.sh: deno lint failed" >&2; status=1; }
deno check app engine drivers steps sinks simulators scripts tests functions >&2 ||
  { echo "test.sh: deno check failed" >&2; status=1; }
deno run -A scripts/gen_schema.ts --check >&2 ||
  { echo "test.sh: generated schema or docs are stale (run deno task schema)" >&2; status=1; }

echo "== deno test" >&2
log=$(mktemp)
deno test -A --parallel 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}
summary=$(sed -e 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1)
passed=$(echo "$summary" | sed -nE 's/.* ([0-9]+) passed.*/\1/p')
failed=$(echo "$summary" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
ignored=$(echo "$summary" | sed -nE 's/.* ([0-9]+) ignored.*/\1/p')
rm -f "$log"
[ "$test_status" = "0" ] || status=1
if [ "$status" != "0" ] && [ "${failed:-0}" = "0" ]; then failed=1; fi
echo "${passed:-0} passed, ${failed:-0} failed, ${ignored:-0} skipped"
exit $status
