/**
 * Which gateway build a bench load runs: GatewayProcess starts EG_TEST_GATEWAY_CMD when it is
 * set (a binary, an older build, a profiling wrapper), else this checkout's build/.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const VAR = 'EG_TEST_GATEWAY_CMD';

/** Runs `fn` with the gateway command set to `cmd` (undefined: build/), then restores the previous one. */
export async function withGatewayCmd<T>(cmd: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env[VAR];
  if (cmd) process.env[VAR] = cmd;
  else delete process.env[VAR];
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[VAR];
    else process.env[VAR] = before;
  }
}

/**
 * build/ under this node with extra node/V8 flags on its command line (undefined: no flags). Not
 * NODE_OPTIONS: Node refuses most V8 flags there (--no-allocation-site-pretenuring and the like).
 */
export function buildCmdWithNodeFlags(flags: string): string | undefined {
  const f = flags.trim();
  return f === '' ? undefined : `${process.execPath} ${f} ${root}build/gateway/src/main.js`;
}

/** The single executables built under dist/ that can run here: [label, command]. */
export function builtExecutables(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const x64 = `${root}dist/edge-gateway-linux-x64`;
  const arm64 = `${root}dist/edge-gateway-linux-arm64`;
  if (process.arch === 'x64' && existsSync(x64)) out.push(['single executable, x64 native', x64]);
  if (existsSync(arm64) && existsSync('/usr/bin/qemu-aarch64-static')) out.push(['single executable, arm64 under qemu-user', `/usr/bin/qemu-aarch64-static -L /usr/aarch64-linux-gnu ${arm64}`]);
  return out;
}

/** `node build/` (command undefined: the default) and the shipped single executable when it is built natively here. */
export function nodeAndNativeBuilds(): Array<[string, string | undefined]> {
  return [[`node ${process.version} build/`, undefined], ...builtExecutables().filter(([name]) => name.includes('native'))];
}
