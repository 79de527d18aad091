/**
 * A throwaway PKI for TLS tests, made with the system's openssl: a CA, server certificates for
 * 127.0.0.1/localhost and device certificates with a chosen CN (or SAN), all PEM in a temp dir.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  ca: CertFiles;
  /** A server certificate for 127.0.0.1 and localhost. */
  server(name?: string): CertFiles;
  /** A client certificate with subject CN `cn` (and optionally a DNS subjectAltName). */
  client(cn: string, opts?: { san?: string }): CertFiles;
  close(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createTestPki(label = 'ca'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'eg-pki-'));
  const ecKey = (file: string) => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', file], dir);
  ecKey('ca.key');
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '3', '-subj', `/CN=edge-gateway test ${label}`], dir);
  let serial = 1;
  const issue = (name: string, subject: string, ext: string): CertFiles => {
    ecKey(`${name}.key`);
    openssl(['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(serial++), '-days', '3', '-out', `${name}.crt`, '-extfile', `${name}.ext`], dir);
    return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  };
  return {
    dir,
    ca: { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') },
    server: (name = 'server') => issue(name, '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'),
    client: (cn, opts) => issue(`client-${cn.replace(/[^A-Za-z0-9_-]/g, '_')}-${serial}`, `/CN=${cn}`, `extendedKeyUsage=clientAuth\n${opts?.san ? `subjectAltName=DNS:${opts.san}\n` : ''}`),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
