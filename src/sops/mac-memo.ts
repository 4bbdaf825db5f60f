// The verified-MAC memo: a tag under a key derived from the data key, saying "these exact file bytes and this stored parse passed the full MAC check".
//
// Why it is sound (perf, issue 7): a launch must still only ever use values of a file whose MAC
// verifies (issue 3). The MAC covers every value, so checking it means decrypting all of them — 1,000
// AES-GCM decryptions for a 1,000-key file that a profile reads ten keys of. After a full check
// succeeds, the launcher stores this tag with the file's parse-cache entry. The tag is an
// HMAC-SHA256 under HKDF(data key, "with-secrets verified-mac v1") over the SHA-256 of the file's
// bytes, the SHA-256 of the stored parse and the file's path. A later launch that has just unwrapped
// the same data key from the same bytes recomputes it: a match proves that this process (someone
// holding the data key) fully verified exactly these bytes and exactly this parse before. Nobody
// without the data key can forge a tag; any change to the file changes its hash and any change to the
// stored parse changes the other one, so both fall back to the full check. The values the profile
// names are still decrypted and each is authenticated by its own AES-GCM tag with its path as AAD.
// The memo holds no plaintext and nothing from which the data key can be derived.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** The HKDF info string and the HMAC's domain separator; bump the version if the message layout changes. */
const INFO = 'with-secrets verified-mac v1';

/** What a memo tag binds: the file's absolute path, its bytes and the stored parse (as hashes). */
export interface MemoBinding {
  readonly path: string;
  readonly contentSha256: string;
  readonly entrySha256: string;
}

/** The memo tag (64 lowercase hex characters) of `binding` under `dataKey`. The derived key is wiped after use. */
export function computeMacMemo(dataKey: Uint8Array, binding: MemoBinding): string {
  const key = new Uint8Array(hkdfSync('sha256', dataKey, new Uint8Array(0), INFO, 32));
  try {
    return createHmac('sha256', key).update(`${INFO}\0${binding.contentSha256}\0${binding.entrySha256}\0${binding.path}`).digest('hex');
  } finally {
    key.fill(0);
  }
}

/** True when `tag` is the memo of `binding` under `dataKey` (constant-time comparison); a missing or malformed tag is false. */
export function checkMacMemo(tag: string | undefined, dataKey: Uint8Array, binding: MemoBinding): boolean {
  if (tag === undefined || !/^[0-9a-f]{64}$/.test(tag)) return false;
  return timingSafeEqual(Buffer.from(computeMacMemo(dataKey, binding), 'hex'), Buffer.from(tag, 'hex'));
}
