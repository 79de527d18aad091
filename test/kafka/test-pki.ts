// A throwaway PKI made with the `openssl` CLI for TLS tests: a CA, a broker certificate for
// 127.0.0.1 / localhost / kafka.edge.test (SAN), a client certificate for mTLS (plain and
// passphrase-encrypted key), and an unrelated CA that trusts none of them. Keys are PKCS#8 PEM
// (what Kafka's `ssl.keystore.type=PEM` reads). Everything lives in `dir`; the caller removes it.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A DNS name only the broker certificate carries: proves `serverName` is what gets verified. */
export const BROKER_DNS_NAME = 'kafka.edge.test';

export interface TestPki {
  dir: string;
  caCert: string;
  /** Broker: certificate chain (leaf + CA) and key, also as one keystore file (key first). */
  brokerCert: string;
  brokerKey: string;
  brokerKeystore: string;
  clientCert: string;
  clientKey: string;
  /** The client key encrypted with `clientKeyPassphrase` (AES-256, PKCS#8). */
  clientKeyEncrypted: string;
  clientKeyPassphrase: string;
  /** A CA that signed nothing here: trusting only it must fail verification. */
  otherCaCert: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], dir);
  await openssl(['req', '-x509', '-new', '-key', key, '-sha256', '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', cert], dir);
  return { cert, key };
}

async function makeLeaf(dir: string, name: string, ca: { cert: string; key: string }, ext: string): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, ext);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], dir);
  await openssl(['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr], dir);
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', extFile, '-out', cert], dir);
  return { cert, key };
}

export async function createTestPki(dir: string): Promise<TestPki> {
  const ca = await makeCa(dir, 'test-ca');
  const other = await makeCa(dir, 'other-ca');
  const broker = await makeLeaf(dir, 'broker', ca, `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:${BROKER_DNS_NAME}\n`);
  const client = await makeLeaf(dir, 'gateway-client', ca, 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement\nextendedKeyUsage=clientAuth\n');
  const [brokerKeyPem, brokerCertPem, caPem] = await Promise.all([readFile(broker.key, 'utf8'), readFile(broker.cert, 'utf8'), readFile(ca.cert, 'utf8')]);
  const brokerChain = join(dir, 'broker-chain.pem');
  await writeFile(brokerChain, brokerCertPem + caPem);
  const brokerKeystore = join(dir, 'broker-keystore.pem');
  await writeFile(brokerKeystore, brokerKeyPem + brokerCertPem + caPem);
  const clientKeyPassphrase = 'pki-key-passphrase-7f3a';
  const clientKeyEncrypted = join(dir, 'gateway-client.enc.key');
  await openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', client.key, '-passout', `pass:${clientKeyPassphrase}`, '-out', clientKeyEncrypted], dir);
  return {
    dir,
    caCert: ca.cert,
    brokerCert: brokerChain,
    brokerKey: broker.key,
    brokerKeystore,
    clientCert: client.cert,
    clientKey: client.key,
    clientKeyEncrypted,
    clientKeyPassphrase,
    otherCaCert: other.cert,
  };
}
