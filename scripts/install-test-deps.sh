#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine: system packages, npm packages, Node 22.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive for real: age, shells, Nix, a Secret Service and its tools, ptys.
packages=(age zsh fish nix-bin gnome-keyring dbus libsecret-1-dev libsecret-tools pkg-config
  tmux util-linux openssh-client shellcheck python3 make g++ procps time strace)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${SKIP_NPM_CI:-}" = 1 ] || npm ci --no-audit --no-fund
# keytar is optional for users, but the test suite exercises the real keyring: it must have built.
node -e "require('keytar')" || { echo "keytar did not build (needs libsecret-1-dev, pkg-config, g++)" >&2; exit 1; }

# Node 22 runs the launcher's execve path; the npm package `node` ships the official binary.
node22=.cache/node22
if [ ! -x "$node22/node_modules/node/bin/node" ]; then
  mkdir -p "$node22"
  (cd "$node22" && echo '{"private":true,"allowScripts":{"node":true}}' > package.json &&
    npm install --no-save --no-audit --no-fund node@22 >/dev/null)
fi
"$node22/node_modules/node/bin/node" --version
