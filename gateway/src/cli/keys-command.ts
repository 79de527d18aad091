/**
 * `edge-gateway keys generate --kid KID [--out-dir DIR]`: a new Ed25519 signing key pair for
 * pushed configuration. The private key (PKCS8 PEM) is created owner-only (0600) and never
 * overwritten; the public key (SPKI PEM) is written beside it, and the YAML to paste under
 * `control.trustedKeys` goes to stdout. File paths and notes go to stderr.
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { trustedKeySchema } from '../config/control-schema.js';
import { gatewayError } from '../errors.js';

export function runKeysCommand(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { kid: { type: 'string' }, 'out-dir': { type: 'string', default: '.' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw gatewayError('GW_ERR_CLI_USAGE', (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals[0] !== 'generate' || positionals.length !== 1) throw gatewayError('GW_ERR_CLI_USAGE', `keys: expected generate, got ${positionals.join(' ') || 'nothing'}`);
  if (values.kid === undefined) throw gatewayError('GW_ERR_CLI_USAGE', 'keys generate: --kid is required');
  // The schema's own rule for a kid (it also keeps the file name free of path separators).
  const kidCheck = trustedKeySchema.shape.kid.safeParse(values.kid);
  if (!kidCheck.success) throw gatewayError('GW_ERR_CLI_USAGE', `--kid: ${kidCheck.error.issues[0]?.message ?? 'invalid'}`);
  const { privatePath, publicPath, publicKey } = generateKeyFiles(values.kid, values['out-dir']);
  process.stdout.write(trustedKeyYaml(values.kid, publicKey));
  process.stderr.write(
    `wrote ${resolve(privatePath)} (owner-only: keep it off the gateways) and ${resolve(publicPath)}\n` +
      'paste the YAML above under control.trustedKeys of every gateway that should accept documents signed with it\n',
  );
  return 0;
}

export function generateKeyFiles(kid: string, dir: string): { privatePath: string; publicPath: string; publicKey: string } {
  const privatePath = join(dir, `${kid}.private.pem`);
  const publicPath = join(dir, `${kid}.public.pem`);
  // Both checked first, so a refusal leaves nothing half-written.
  for (const p of [privatePath, publicPath]) {
    if (existsSync(p)) throw gatewayError('GW_ERR_CONTROL_KEY_FILE', `${p} exists; refusing to overwrite a key (choose another --kid or --out-dir)`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // 'wx': fails if the file appeared meanwhile; chmod states the mode whatever the umask.
    writeFileSync(privatePath, privatePem, { flag: 'wx', mode: 0o600 });
    chmodSync(privatePath, 0o600);
  } catch (cause) {
    throw gatewayError('GW_ERR_CONTROL_KEY_FILE', `${privatePath}: ${(cause as Error).message}`, { cause });
  }
  try {
    writeFileSync(publicPath, publicPem, { flag: 'wx', mode: 0o644 });
  } catch (cause) {
    unlinkSync(privatePath);
    throw gatewayError('GW_ERR_CONTROL_KEY_FILE', `${publicPath}: ${(cause as Error).message}`, { cause });
  }
  return { privatePath, publicPath, publicKey: publicPem };
}

export function trustedKeyYaml(kid: string, publicKeyPem: string): string {
  const pem = publicKeyPem.trimEnd().split('\n').map((l) => `          ${l}`).join('\n');
  return `control:\n  trustedKeys:\n    - kid: ${JSON.stringify(kid)}\n      publicKey: |\n${pem}\n`;
}
