/**
 * `edge-gateway status`: the running gateway's snapshot (the status page's facts) in a terminal,
 * read from its admin server's `GET /status`. The address and token come from the config's
 * `admin` section (host 0.0.0.0 / :: is reached on loopback), `GATEWAY_ADMIN_TOKEN`, or the
 * flags, which win. Exit 0 with the snapshot; 1 when the admin server cannot be read.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import type { AdminStatus } from '../control/admin-status.js';
import { gatewayError } from '../errors.js';
import { formatAdminStatus } from './status-view.js';

export async function runStatusCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, url: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean', default: false } },
      strict: true,
    }));
  } catch (err) {
    throw gatewayError('GW_ERR_CLI_USAGE', (err as Error).message);
  }
  const target = adminTarget({ configPath: values.config ?? process.env['GATEWAY_CONFIG'], url: values.url, token: values.token, env: process.env });
  const url = new URL('status', target.url.endsWith('/') ? target.url : `${target.url}/`);
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...(target.token ? { authorization: `Bearer ${target.token}` } : {}) }, signal: AbortSignal.timeout(5000) });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    process.stderr.write(`edge-gateway status: cannot reach the admin server at ${url.origin} (${cause}); is the gateway running with admin enabled?\n`);
    return 1;
  }
  const body = await res.text();
  if (!res.ok) {
    const hint = res.status === 401 ? ': a token is needed (--token, GATEWAY_ADMIN_TOKEN or admin.token in --config)' : '';
    process.stderr.write(`edge-gateway status: ${url.href} answered HTTP ${res.status}${hint}\n`);
    return 1;
  }
  if (values.json) {
    process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
    return 0;
  }
  process.stdout.write(formatAdminStatus(JSON.parse(body) as AdminStatus));
  return 0;
}

/** The admin server's base URL and token: flags first, then the config file (with env overrides). */
export function adminTarget(o: { configPath?: string | undefined; url?: string | undefined; token?: string | undefined; env: NodeJS.ProcessEnv }): { url: string; token: string | undefined } {
  if (o.url !== undefined && o.token !== undefined) return { url: o.url, token: o.token };
  const admin = loadConfig({ path: o.configPath, env: o.env }).admin;
  const host = admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '::1' : admin.host;
  const fromConfig = `${admin.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${admin.port}`;
  return { url: o.url ?? fromConfig, token: o.token ?? admin.token };
}
