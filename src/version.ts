// The version of with-secrets (kept equal to package.json's by test/version.test.ts).

/** This release's version, printed by `with-secrets --version`. */
export const VERSION = '0.1.0';
