import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Gateway version (from package.json, or the value a single-executable build injected). */
export function gatewayVersion(): string {
  const injected = (globalThis as { __EDGE_GATEWAY_VERSION__?: string }).__EDGE_GATEWAY_VERSION__;
  if (injected) return injected;
  try {
    return (require('../../../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0-unknown';
  }
}

export function versionLine(sqliteVersion?: string): string {
  return `edge-gateway ${gatewayVersion()} node ${process.version} ${process.platform}-${process.arch}${sqliteVersion ? ` sqlite ${sqliteVersion}` : ''}`;
}
