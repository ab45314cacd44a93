#!/usr/bin/env bash
# Refreshes the Swagger UI files that the server embeds for its /docs page
# (crates/orchestore-server/assets/docs/vendor/) from the pinned version of the npm package
# swagger-ui-dist. The tarball is fetched with npm from the configured registry and compared
# with the integrity hash that the registry's metadata gives for that version before anything
# is unpacked. To move to another version, change VERSION, run this, and build: the server
# serves whatever the folder holds.
set -euo pipefail

readonly PACKAGE=swagger-ui-dist
readonly VERSION=5.35.0
# What the page needs, and what its license asks to ship with it; nothing else of the package.
readonly FILES=(
  LICENSE
  NOTICE
  package.json
  swagger-ui-bundle.js
  swagger-ui-bundle.js.LICENSE.txt
  swagger-ui.css
  index.css
  favicon-32x32.png
)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$root/crates/orchestore-server/assets/docs/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

expected=$(npm view "$PACKAGE@$VERSION" dist.integrity)
if [[ $expected != sha512-* ]]; then
  echo "the registry gives no sha512 integrity for $PACKAGE@$VERSION: '$expected'" >&2
  exit 1
fi
tarball=$(cd "$work" && npm pack "$PACKAGE@$VERSION" --silent)
actual=$(node -e '
  const data = require("fs").readFileSync(process.argv[1]);
  process.stdout.write("sha512-" + require("crypto").createHash("sha512").update(data).digest("base64"));
' "$work/$tarball")
if [[ $actual != "$expected" ]]; then
  echo "$tarball does not match the registry's integrity hash" >&2
  echo "  expected $expected" >&2
  echo "  got      $actual" >&2
  exit 1
fi

tar -xzf "$work/$tarball" -C "$work" "${FILES[@]/#/package/}"
rm -rf "$dest"
mkdir -p "$dest"
for file in "${FILES[@]}"; do
  cp "$work/package/$file" "$dest/$file"
done
echo "vendored $PACKAGE $VERSION ($expected) into ${dest#"$root"/}"
