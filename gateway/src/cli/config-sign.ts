/**
 * `config sign`: the config file is validated by the gateway's own schema before it is signed
 * (a document every gateway would reject is refused here, with the field named), then the file's
 * object as written (not defaulted) is signed. Foot-guns that are valid config but would cut the
 * gateway off from later pushes are reported as warnings on stderr.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { readConfigFile, validateConfig } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';
import { signConfigDocument } from '../control/config-document.js';
import { gatewayError } from '../errors.js';

export interface ConfigSignArgs {
  keyFile: string;
  kid: string;
  gatewayId: string;
  version: number;
  expiresInSecs: number | undefined;
  out: string | undefined;
  configFile: string;
}

export async function runConfigSign(a: ConfigSignArgs): Promise<number> {
  let privateKeyPem: string;
  try {
    privateKeyPem = readFileSync(a.keyFile, 'utf8');
  } catch (cause) {
    throw gatewayError('GW_ERR_CONTROL_KEY_FILE', `${a.keyFile}: ${(cause as Error).message}`, { cause });
  }
  const raw = readConfigFile(a.configFile);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw gatewayError('GW_ERR_CONFIG_INVALID', `${a.configFile}: (root): must be a mapping`);
  const rawConfig = raw as Record<string, unknown>;
  const config = validateConfig(rawConfig, a.configFile);
  if (rawConfig['gatewayId'] !== undefined && rawConfig['gatewayId'] !== a.gatewayId) {
    throw gatewayError('GW_ERR_CONFIG_INVALID', `${a.configFile}: gatewayId: is ${JSON.stringify(rawConfig['gatewayId'])} but the document is for "${a.gatewayId}" (--gateway-id)`);
  }
  if (!config.control.remoteConfig.enabled) {
    throw gatewayError('GW_ERR_CONFIG_INVALID', `${a.configFile}: control.remoteConfig.enabled: must be true in a pushed config (gateways refuse one that would cut off the next push)`);
  }
  const jws = await signConfigDocument({ privateKeyPem, kid: a.kid, gatewayId: a.gatewayId, version: a.version, config: rawConfig, expiresInSecs: a.expiresInSecs });
  for (const w of signingWarnings(rawConfig, config, a.kid, privateKeyPem)) process.stderr.write(`warning: ${w}\n`);
  if (a.out !== undefined) writeFileSync(a.out, `${jws}\n`);
  else process.stdout.write(`${jws}\n`);
  const expiry = a.expiresInSecs === undefined ? 'never expires' : `expires in ${a.expiresInSecs} s`;
  process.stderr.write(
    `signed version ${a.version} for gateway ${a.gatewayId} with kid ${a.kid} (${Buffer.byteLength(jws)} bytes, ${expiry}, sha256 ${createHash('sha256').update(jws).digest('hex')})` +
      `${a.out !== undefined ? ` to ${a.out}` : ''}\n`,
  );
  return 0;
}

/** Valid configurations that would leave the gateway unable to take the next push. */
export function signingWarnings(raw: Record<string, unknown>, config: Readonly<GatewayConfig>, kid: string, privateKeyPem: string): string[] {
  const out: string[] = [];
  const entry = config.control.trustedKeys.find((k) => k.kid === kid);
  let sameKey = false;
  try {
    sameKey = entry !== undefined && createPublicKey(entry.publicKey).equals(createPublicKey(privateKeyPem));
  } catch {
    sameKey = false;
  }
  if (!sameKey) out.push(`control.trustedKeys has no entry "${kid}" with this key's public key: the gateway will refuse the next document signed with it`);
  return out;
}
