#!/usr/bin/env bash
# Writes nix/npm-deps-hashes.json: for each system the flake builds, the hash of the node_modules tree
# that nix/npm-deps.nix produces, computed outside Nix the way that derivation builds it (npm ci
# --ignore-scripts with the same options, for that system's os and cpu, without npm's hidden lockfile
# and empty directories), plus the SHA-256 of the package-lock.json it was computed from (a test checks
# that it is current).
# Needs access to the npm registry and nix (Debian: nix-bin). Run it after changing package-lock.json.
# NPM=/path/to/npm picks another npm (for example the one nixpkgs' Node ships) to check that it gives the same tree.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
command -v nix >/dev/null || { echo "npm-deps-hashes: needs nix (Debian: apt-get install nix-bin)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root/package.json" "$root/package-lock.json" "$work/"

# nix system -> npm's --os and --cpu (and, on Linux, the libc nixpkgs' Node is built against).
systems=(x86_64-linux aarch64-linux x86_64-darwin aarch64-darwin)
npm_platform() {
  case "$1" in
    x86_64-linux) echo "--os=linux --cpu=x64 --libc=glibc" ;;
    aarch64-linux) echo "--os=linux --cpu=arm64 --libc=glibc" ;;
    x86_64-darwin) echo "--os=darwin --cpu=x64" ;;
    aarch64-darwin) echo "--os=darwin --cpu=arm64" ;;
  esac
}

entries=()
for system in "${systems[@]}"; do
  rm -rf "$work/node_modules" "$work/out"
  # HOME as in the derivation (no user npmrc); the cache is shared between systems, the tarballs are the same.
  # shellcheck disable=SC2046 # npm_platform's words are separate options
  (cd "$work" && HOME="$work/home" npm_config_cache="$work/npm-cache" \
    "${NPM:-npm}" ci --ignore-scripts --no-audit --no-fund --loglevel=warn --include=dev --include=optional --install-strategy=hoisted $(npm_platform "$system"))
  mkdir "$work/out"
  mv "$work/node_modules" "$work/out/node_modules"
  rm -f "$work/out/node_modules/.package-lock.json"
  find "$work/out/node_modules" -type d -empty -delete
  hash=$(nix --extra-experimental-features nix-command hash path --type sha256 "$work/out")
  echo "$system $hash" >&2
  entries+=("$system" "$hash")
done

lock_sha256=$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)
node - "$root/nix/npm-deps-hashes.json" "$lock_sha256" "${entries[@]}" <<'EOF'
const [file, lockfileSha256, ...pairs] = process.argv.slice(2);
const hashes = {};
for (let i = 0; i < pairs.length; i += 2) hashes[pairs[i]] = pairs[i + 1];
require('node:fs').writeFileSync(file, `${JSON.stringify({ lockfileSha256, hashes }, null, 2)}\n`);
EOF
echo "wrote nix/npm-deps-hashes.json" >&2
