#!/usr/bin/env bash
# Installs what the extension's end-to-end tests need, once, into a cache folder:
# code-server (pinned: the newest that runs on Node 20) and playwright-core from npm.
# Chromium, ripgrep and the build headers come from apt (scripts/test.sh installs them as root).
# Prints the folder on its last line; the e2e test looks there (BIFROST_VSCODE_E2E_DIR).
set -euo pipefail
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.2
dir="${BIFROST_VSCODE_E2E_DIR:-$HOME/.cache/bifrost-vscode-e2e}"
marker="$dir/.installed-${CODE_SERVER_VERSION}-${PLAYWRIGHT_VERSION}"
mkdir -p "$dir"
cd "$dir"
if [ ! -f "$marker" ]; then
  # @vscode/ripgrep downloads its binary from GitHub: seed its cache with Debian's rg.
  tmp="$(mktemp -d)"
  rg_bin="$(command -v rg || true)"
  if [ -n "$rg_bin" ]; then
    mkdir -p "$tmp/vscode-ripgrep-cache-1.15.11" "$tmp/rgpack"
    cp "$rg_bin" "$tmp/rgpack/rg"
    tar -czf "$tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" \
      -C "$tmp/rgpack" rg
  fi
  # npm 11 runs install scripts only of approved packages (allowScripts); code-server's
  # postinstall installs VS Code's own modules.
  cat > package.json <<JSON
{
  "name": "bifrost-vscode-e2e",
  "private": true,
  "dependencies": { "code-server": "${CODE_SERVER_VERSION}", "playwright-core": "${PLAYWRIGHT_VERSION}" },
  "allowScripts": { "code-server": true, "argon2": true }
}
JSON
  TMPDIR="$tmp" npm_config_yes=true npm_config_unsafe_perm=true npm_config_nodedir=/usr \
    npm install --no-audit --no-fund >&2
  rm -rf "$tmp"
  node_modules/.bin/code-server --version >&2
  touch "$marker"
fi
echo "$dir"
