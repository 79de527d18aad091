/** `config sign` warnings: valid configs that would cut a gateway off from the next push. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { signingWarnings } from '../../../gateway/src/cli/config-sign.js';
import { validateConfig } from '../../../gateway/src/config/load-config.js';

const pair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), pub: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
};
const signer = pair();
const other = pair();

function warnings(raw: Record<string, unknown>, kid = 'ops'): string[] {
  return signingWarnings(raw, validateConfig(raw), kid, signer.priv);
}
const pushed = (trustedKeys: unknown[]) => ({ gatewayId: 'gw-1', control: { remoteConfig: { enabled: true }, trustedKeys } });

test('no warning when the document keeps remote config on, names the gateway and trusts the signing key', () => {
  assert.deepEqual(warnings(pushed([{ kid: 'old', publicKey: other.pub }, { kid: 'ops', publicKey: signer.pub }])), []);
});

test('warns: signing kid missing or bound to another key (a missing gatewayId is the box\'s own; remote config off is an error of sign)', () => {
  assert.deepEqual(warnings({ control: { remoteConfig: { enabled: true }, trustedKeys: [{ kid: 'ops', publicKey: signer.pub }] } }), []);
  assert.match(warnings(pushed([{ kid: 'old', publicKey: signer.pub }])).join(), /no entry "ops" with this key's public key/);
  assert.match(warnings(pushed([{ kid: 'ops', publicKey: other.pub }])).join(), /no entry "ops" with this key's public key/);
});
