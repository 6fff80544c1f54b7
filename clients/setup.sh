#!/usr/bin/env bash
# Installs what the client compatibility suite needs (see README.md):
#   - clients/node_modules: mailgun.js, nodemailer, nodemailer-mailgun-transport
#     at the exact versions of package-lock.json;
#   - clients/ghost/node_modules: the packages Ghost's Mailgun modules require,
#     at the versions ghost@6.65.0 pins (ghost/package-lock.json);
#   - clients/ghost/dist/package: the `ghost` 6.65.0 npm package, unpacked, its
#     tarball checked against the registry's published sha512.
# Idempotent: each step is skipped when what it would produce is already there.
# Needs node >= 20 and npm with access to the npm registry.
set -euo pipefail
cd "$(dirname "$0")"

GHOST_VERSION=6.65.0
GHOST_INTEGRITY=sha512-D369qivOmfn4YwvBD1DljOGsHnJzBEQhBsiFnBZD+GjWrBpdZQYYNHneiQcKQVJwUom8eHWml1n5FRLQIwVFOg==

# npm_ci DIR: `npm ci` in DIR unless its node_modules came from the same lock.
# Install scripts are not run: none of these packages needs one (the only one,
# dtrace-provider under Ghost's logging, is optional and would call node-gyp).
npm_ci() {
  local dir=$1 stamp="$1/node_modules/.salvo-lock.sha256" want
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}

npm_ci .
npm_ci ghost

if [ "$(node -p "require('./ghost/dist/package/package.json').version" 2>/dev/null || true)" != "$GHOST_VERSION" ]; then
  rm -rf ghost/dist
  mkdir -p ghost/dist
  tgz=$(cd ghost/dist && npm pack "ghost@$GHOST_VERSION" --silent)
  got=$(node -e 'const f = require("fs").readFileSync(process.argv[1]);
    process.stdout.write("sha512-" + require("crypto").createHash("sha512").update(f).digest("base64"))' "ghost/dist/$tgz")
  if [ "$got" != "$GHOST_INTEGRITY" ]; then
    echo "ghost@$GHOST_VERSION tarball: integrity $got, want $GHOST_INTEGRITY" >&2
    exit 1
  fi
  tar xzf "ghost/dist/$tgz" -C ghost/dist
  rm "ghost/dist/$tgz"
fi
# ghost/package.json must pin exactly what this Ghost pins, or the suite would
# test Ghost's modules against other versions of mailgun.js and the rest.
node -e '
  const ours = require("./ghost/package.json").dependencies;
  const ghost = require("./ghost/dist/package/package.json");
  const pinned = { ...ghost.dependencies, ...ghost.optionalDependencies };
  const bad = Object.keys(ours).filter((k) => pinned[k] !== ours[k]);
  if (bad.length) {
    console.error("ghost/package.json differs from ghost@" + ghost.version + ": " +
      bad.map((k) => k + " " + ours[k] + " (ghost pins " + pinned[k] + ")").join(", "));
    process.exit(1);
  }'
echo "client suite ready: node $(node --version), ghost $GHOST_VERSION"
