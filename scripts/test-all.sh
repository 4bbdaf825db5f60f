#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs prerequisites, type-checks, builds, then runs
# every test on Node 20 and the launcher's end-to-end tests again on Node 22 (the execve path).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
node22="$PWD/.cache/node22/node_modules/node/bin/node"

npx tsc -p tsconfig.test.json --noEmit
npm run build

status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest-node20.json || status=$?
WITH_SECRETS_TEST_NODE="$node22" npx vitest run test/e2e/launch \
  --reporter=default --reporter=json --outputFile.json=.cache/vitest-node22.json || status=$?

node scripts/summarize-tests.mjs .cache/vitest-node20.json .cache/vitest-node22.json
exit "$status"
