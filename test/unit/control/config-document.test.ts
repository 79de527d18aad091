/**
 * The signed config document: what `config sign` writes, a gateway verifies; every way a document
 * can be wrong is refused with its own code, and the forgeries (alg none, HS256 keyed with the
 * public key, a payload swapped under a good signature) are refused before the body is trusted.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { SignJWT, importPKCS8 } from 'jose';
import {
  CLOCK_TOLERANCE_SECS,
  DEFAULT_MAX_DOCUMENT_BYTES,
  peekDocumentClaims,
  signConfigDocument,
  verifyConfigDocument,
} from '../../../gateway/src/control/config-document.js';
import { isGatewayError, type ErrorCode } from '../../../gateway/src/errors.js';

function keyPair(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const ops = keyPair();
const other = keyPair();
const trustedKeys = [{ kid: 'ops-2025', publicKey: ops.publicKey }];
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const CONFIG = { gatewayId: 'gw-7', kafka: { brokers: ['kafka-1:9092'], topic: 'telemetry.raw' }, mqtt: { listeners: [{ host: '0.0.0.0', port: 1883 }] } };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

const sign = (over: Partial<Parameters<typeof signConfigDocument>[0]> = {}) =>
  signConfigDocument({ privateKeyPem: ops.privateKeyPem, kid: 'ops-2025', gatewayId: 'gw-7', version: 3, config: CONFIG, now: NOW, ...over });

/** Signs arbitrary claims with the trusted key, bypassing signConfigDocument's own checks. */
async function signRaw(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const key = await importPKCS8(ops.privateKeyPem, 'EdDSA');
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'ops-2025', typ: 'edge-gateway-config+jwt', ...header }).sign(key);
}

async function rejects(jws: string, code: ErrorCode, opts: Partial<Parameters<typeof verifyConfigDocument>[1]> = {}): Promise<string> {
  try {
    await verifyConfigDocument(jws, { trustedKeys, gatewayId: 'gw-7', now: NOW, ...opts });
  } catch (err) {
    assert.ok(isGatewayError(err), String(err));
    assert.equal(err.code, code, err.message);
    return err.message;
  }
  assert.fail(`expected ${code}, the document was accepted`);
}

test('round trip: sign then verify returns sub, ver, kid, times, the config as signed and the sha256 of the JWS', async () => {
  const jws = await sign({ expiresInSecs: 3600 });
  assert.match(jws, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
  assert.deepEqual(header, { alg: 'EdDSA', kid: 'ops-2025', typ: 'edge-gateway-config+jwt' });
  const doc = await verifyConfigDocument(jws, { trustedKeys: [{ kid: 'older', publicKey: other.publicKey }, ...trustedKeys], gatewayId: 'gw-7', now: NOW + 1000 });
  assert.deepEqual(doc, {
    kid: 'ops-2025',
    gatewayId: 'gw-7',
    version: 3,
    issuedAt: NOW,
    expiresAt: NOW + 3600_000,
    config: CONFIG,
    hash: createHash('sha256').update(jws).digest('hex'),
  });
  const noExp = await verifyConfigDocument(await sign(), { trustedKeys, gatewayId: 'gw-7', now: NOW + 10 * 365 * 86400_000 });
  assert.equal(noExp.expiresAt, null, 'without exp a document never expires');
  assert.deepEqual(peekDocumentClaims(jws), { kid: 'ops-2025', gatewayId: 'gw-7', version: 3 });
});

test('iat is not compared with the clock: a gateway whose clock is far behind still takes a fresh document', async () => {
  const jws = await sign({ expiresInSecs: 600 });
  const doc = await verifyConfigDocument(jws, { trustedKeys, gatewayId: 'gw-7', now: Date.UTC(1970, 0, 2) });
  assert.equal(doc.version, 3);
});

test('tampered payload (version raised under the old signature) and tampered signature: GW_ERR_CONTROL_SIGNATURE', async () => {
  const [h, p, s] = (await sign()).split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  await rejects(`${h}.${b64({ ...claims, ver: 4 })}.${s}`, 'GW_ERR_CONTROL_SIGNATURE');
  await rejects(`${h}.${b64({ ...claims, config: { ...CONFIG, gatewayId: 'evil' } })}.${s}`, 'GW_ERR_CONTROL_SIGNATURE');
  // Flip a character in the middle (the last one may only carry padding bits).
  const i = 20;
  const flipped = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  await rejects(`${h}.${p}.${flipped}`, 'GW_ERR_CONTROL_SIGNATURE');
});

test('unknown kid: GW_ERR_CONTROL_UNKNOWN_KEY; a known kid with another key: GW_ERR_CONTROL_SIGNATURE', async () => {
  const msg = await rejects(await sign({ kid: 'stranger' }), 'GW_ERR_CONTROL_UNKNOWN_KEY');
  assert.match(msg, /"stranger"/);
  await rejects(await sign(), 'GW_ERR_CONTROL_UNKNOWN_KEY', { trustedKeys: [] });
  await rejects(await sign({ privateKeyPem: other.privateKeyPem }), 'GW_ERR_CONTROL_SIGNATURE');
  const notEd = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await rejects(await sign(), 'GW_ERR_CONTROL_UNKNOWN_KEY', { trustedKeys: [{ kid: 'ops-2025', publicKey: notEd }] });
});

test('another gateway\'s document: GW_ERR_CONTROL_WRONG_GATEWAY', async () => {
  const msg = await rejects(await sign({ gatewayId: 'gw-8' }), 'GW_ERR_CONTROL_WRONG_GATEWAY');
  assert.match(msg, /"gw-8".*"gw-7"/);
});

test(`expired: GW_ERR_CONTROL_EXPIRED after exp + ${CLOCK_TOLERANCE_SECS} s, accepted within the tolerance`, async () => {
  const jws = await sign({ expiresInSecs: 60 });
  await verifyConfigDocument(jws, { trustedKeys, gatewayId: 'gw-7', now: NOW + (60 + CLOCK_TOLERANCE_SECS - 1) * 1000 });
  const msg = await rejects(jws, 'GW_ERR_CONTROL_EXPIRED', { now: NOW + (60 + CLOCK_TOLERANCE_SECS + 1) * 1000 });
  assert.match(msg, /2025-06-01T12:01:00/);
});

test('oversize: refused before anything is decoded (even garbage); default limit 1 MiB', async () => {
  const big = 'x'.repeat(DEFAULT_MAX_DOCUMENT_BYTES + 1);
  assert.match(await rejects(big, 'GW_ERR_CONTROL_MALFORMED'), /larger than 1048576 bytes/);
  const jws = await sign();
  assert.match(await rejects(jws, 'GW_ERR_CONTROL_MALFORMED', { maxBytes: jws.length - 1 }), /larger than/);
  await verifyConfigDocument(jws, { trustedKeys, gatewayId: 'gw-7', now: NOW, maxBytes: jws.length });
  // Counted in UTF-8 bytes, not UTF-16 code units.
  assert.match(await rejects('é'.repeat(600_000), 'GW_ERR_CONTROL_MALFORMED'), /larger than/);
  await assert.rejects(sign({ config: { pad: 'x'.repeat(DEFAULT_MAX_DOCUMENT_BYTES) } }), (e) => isGatewayError(e, 'GW_ERR_CONTROL_SIGN'), 'the signer refuses what every gateway would refuse');
});

test('garbage: GW_ERR_CONTROL_MALFORMED', async () => {
  for (const junk of ['', 'hello', 'a.b', 'a.b.c.d', '....', '{"alg":"EdDSA"}', 'eyJ.eyJ.sig', `${b64('x')}.${b64({})}.AAAA`, `@@.${b64({})}.AAAA`]) {
    await rejects(junk, 'GW_ERR_CONTROL_MALFORMED');
    assert.throws(() => peekDocumentClaims(junk), (e) => isGatewayError(e, 'GW_ERR_CONTROL_MALFORMED'), junk);
  }
  await rejects(undefined as unknown as string, 'GW_ERR_CONTROL_MALFORMED');
});

test('alg none and HS256 keyed with the public key (algorithm confusion): GW_ERR_CONTROL_MALFORMED naming alg', async () => {
  const claims = { sub: 'gw-7', ver: 99, iat: NOW / 1000, config: { ...CONFIG, gatewayId: 'evil' } };
  const none = `${b64({ alg: 'none', kid: 'ops-2025', typ: 'edge-gateway-config+jwt' })}.${b64(claims)}`;
  await rejects(`${none}.`, 'GW_ERR_CONTROL_MALFORMED');
  assert.match(await rejects(`${none}.AAAA`, 'GW_ERR_CONTROL_MALFORMED'), /alg must be EdDSA, got "none"/);

  const hsInput = `${b64({ alg: 'HS256', kid: 'ops-2025', typ: 'edge-gateway-config+jwt' })}.${b64(claims)}`;
  const hs = `${hsInput}.${createHmac('sha256', ops.publicKey).update(hsInput).digest('base64url')}`;
  assert.match(await rejects(hs, 'GW_ERR_CONTROL_MALFORMED'), /alg must be EdDSA, got "HS256"/);
  // The unverified peek refuses them too (it reads the same header checks).
  assert.throws(() => peekDocumentClaims(hs), (e) => isGatewayError(e, 'GW_ERR_CONTROL_MALFORMED'));
});

test('wrong typ or no kid: GW_ERR_CONTROL_MALFORMED; typ compared as a media type', async () => {
  const claims = { sub: 'gw-7', ver: 1, iat: NOW / 1000, config: {} };
  assert.match(await rejects(await signRaw(claims, { typ: 'JWT' }), 'GW_ERR_CONTROL_MALFORMED'), /typ must be/);
  assert.match(await rejects(await signRaw(claims, { kid: undefined }), 'GW_ERR_CONTROL_MALFORMED'), /no kid/);
  const doc = await verifyConfigDocument(await signRaw(claims, { typ: 'application/Edge-Gateway-Config+JWT' }), { trustedKeys, gatewayId: 'gw-7', now: NOW });
  assert.equal(doc.version, 1);
});

test('missing or ill-typed claims, correctly signed: GW_ERR_CONTROL_MALFORMED naming the claim', async () => {
  const good = { sub: 'gw-7', ver: 2, iat: NOW / 1000, config: {} };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['missing ver', { ...good, ver: undefined }, /"ver"/],
    ['ver 1.5', { ...good, ver: 1.5 }, /"ver"/],
    ['ver "2"', { ...good, ver: '2' }, /"ver"/],
    ['ver 0', { ...good, ver: 0 }, /"ver"/],
    ['ver -1', { ...good, ver: -1 }, /"ver"/],
    ['ver 2^53', { ...good, ver: 2 ** 53 }, /"ver"/],
    ['missing sub', { ...good, sub: undefined }, /"sub"/],
    ['sub 7', { ...good, sub: 7 }, /"sub"/],
    ['missing iat', { ...good, iat: undefined }, /"iat"/],
    ['missing config', { ...good, config: undefined }, /"config"/],
    ['config array', { ...good, config: [] }, /"config"/],
    ['config null', { ...good, config: null }, /"config"/],
    ['exp "soon"', { ...good, exp: 'soon' }, /exp/],
  ];
  for (const [name, claims, named] of cases) {
    const jws = await signRaw(JSON.parse(JSON.stringify(claims)) as Record<string, unknown>);
    assert.match(await rejects(jws, 'GW_ERR_CONTROL_MALFORMED'), named, name);
  }
  // The correctly typed control case is accepted (so the cases above fail for their own reason).
  assert.equal((await verifyConfigDocument(await signRaw(good), { trustedKeys, gatewayId: 'gw-7', now: NOW })).version, 2);
});

test('signConfigDocument refuses what no gateway would accept: bad version, empty ids, not an Ed25519 key', async () => {
  const code = (e: unknown) => isGatewayError(e, 'GW_ERR_CONTROL_SIGN');
  for (const version of [0, 1.5, -3, 2 ** 53]) await assert.rejects(sign({ version }), code, String(version));
  await assert.rejects(sign({ gatewayId: '' }), code);
  await assert.rejects(sign({ kid: '' }), code);
  await assert.rejects(sign({ expiresInSecs: 0 }), code);
  await assert.rejects(sign({ privateKeyPem: ops.publicKey }), code, 'a public key is not a signing key');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await assert.rejects(sign({ privateKeyPem: ec }), code);
});
