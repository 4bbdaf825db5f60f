// The folders under $XDG_CACHE_HOME/with-secrets, named in one place: the bin watches the parse cache's to tell a cold run.

/** The parse cache (src/sops/parse-cache.ts): parsed, still-encrypted documents. */
export const PARSE_CACHE_SUBDIR = 'parsed';

/** The V8 code cache of the bundles (src/cli/code-cache.ts). */
export const CODE_CACHE_SUBDIR = 'v8';
