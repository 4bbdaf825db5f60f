#!/usr/bin/env bash
# A throwaway demo of the whole job: a new identity, a SOPS file, a profile, and a launch whose
# child gets the token while this shell never does. Everything lives in a temporary HOME.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
demo_home="$(mktemp -d)"
trap 'rm -rf "$demo_home"' EXIT
export HOME="$demo_home"
unset XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME WITH_SECRETS_CONFIG SOPS_AGE_KEY SOPS_AGE_KEY_FILE SOPS_AGE_KEY_CMD
ws() { node "$repo/dist/with-secrets.js" "$@"; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say with-secrets init
ws init

demo_token='sk-demo-not-a-real-key'
say 'printf %s "$demo_token" | with-secrets secret set openai.api_key   # stdin, never argv'
printf %s "$demo_token" | ws secret set openai.api_key

say with-secrets list
ws list

say "with-secrets run --profile codex -- node examples/show-env.mjs OPENAI_API_KEY"
ws run --profile codex -- node "$repo/examples/show-env.mjs" OPENAI_API_KEY

say 'echo "in this shell: ${OPENAI_API_KEY:-<unset>}"'
echo "in this shell: ${OPENAI_API_KEY:-<unset>}"

say "head -3 ~/.config/with-secrets/secrets.yaml   # an ordinary sops file"
head -3 "$HOME/.config/with-secrets/secrets.yaml"
