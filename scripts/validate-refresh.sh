#!/usr/bin/env bash
# Refreshes the disposable-domain list that address validation ships
# (internal/validate/data/disposable.txt.gz) from the npm package
# disposable-email-domains (MIT). Usage: scripts/validate-refresh.sh [version]
# (default: the newest). Needs npm and node. Review the diff, update the
# version named in internal/validate/data/LICENSE.disposable, run
# `go test ./internal/validate/` and commit.
set -euo pipefail
version="${1:-latest}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "disposable-email-domains@${version}" >/dev/null
tar xzf disposable-email-domains-*.tgz
got="$(node -p 'require("./package/package.json").version')"
{
  echo "# disposable-email-domains ${got} (npm), index.json and wildcard.json (*. = the domain and every subdomain)"
  node -e '
    const a = require("./package/index.json"), w = require("./package/wildcard.json");
    const out = new Set();
    for (const x of a) out.add(x.toLowerCase().trim());
    for (const x of w) out.add("*." + x.toLowerCase().trim());
    console.log([...out].filter(Boolean).sort().join("\n"));'
} | gzip -9 -n > "$repo/internal/validate/data/disposable.txt.gz"
echo "disposable-email-domains ${got}: $(zcat "$repo/internal/validate/data/disposable.txt.gz" | grep -vc '^#') entries written"
