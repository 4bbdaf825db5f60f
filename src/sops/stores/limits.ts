// Bounds every store parser applies, so hostile input gives a `malformed` error instead of a crash.

/** Deepest nesting of maps and lists a store accepts (Go's encoding/json stops at 10000; real files stay far below 100). */
export const MAX_DEPTH = 1000;

