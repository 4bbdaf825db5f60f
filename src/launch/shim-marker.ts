// The marker that identifies a PATH shim which calls with-secrets, so resolution can skip it and never loop.

/** Any executable whose first {@link SHIM_MARKER_WINDOW} bytes contain this string is a with-secrets shim. */
export const SHIM_MARKER = 'with-secrets-shim';

/** How many leading bytes of a candidate executable are searched for the marker. */
export const SHIM_MARKER_WINDOW = 512;
