// The keyring worker: a tiny CommonJS program run by `node -e`, so a hung keytar call can be killed.

/**
 * Source of the worker. It reads one JSON request `{op, service, account, secret?}` from stdin,
 * loads keytar from the absolute path given as its first argument, makes the one call, writes one
 * JSON reply to stdout and exits at once (a keytar job stuck on the Secret Service cannot be
 * cancelled; exiting ends it). It never calls `findCredentials` (it crashed on a locked keyring).
 * Kept inline, not as a file, so the bundled `dist/` needs nothing extra.
 */
export const WORKER_SOURCE = String.raw`
'use strict';
const keytarPath = process.argv[1];
const reply = (o) => process.stdout.write(JSON.stringify(o), () => process.exit(0));
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  let req;
  try { req = JSON.parse(input); } catch { return reply({ ok: false, stage: 'request', message: 'bad request' }); }
  let kt;
  try { kt = require(keytarPath); } catch (e) { return reply({ ok: false, stage: 'load', message: String((e && e.message) || e) }); }
  try {
    if (req.op === 'get') return reply({ ok: true, value: await kt.getPassword(req.service, req.account) });
    if (req.op === 'set') { await kt.setPassword(req.service, req.account, req.secret); return reply({ ok: true, value: null }); }
    if (req.op === 'delete') return reply({ ok: true, value: await kt.deletePassword(req.service, req.account) });
    return reply({ ok: false, stage: 'request', message: 'unknown op' });
  } catch (e) {
    return reply({ ok: false, stage: 'call', message: String((e && e.message) || e) });
  }
});
`;
