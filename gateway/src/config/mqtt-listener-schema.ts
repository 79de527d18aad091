/**
 * One MQTT listener: an address, optionally TLS (with device certificates for mTLS), and whether
 * clients without credentials are let in. Defaults follow mosquitto 2.x: anonymous only on a
 * loopback address unless the operator says otherwise.
 */
import { z } from 'zod';

export const listenerTlsSchema = z
  .strictObject({
    certFile: z.string().min(1).describe('PEM server certificate (chain); re-read on SIGHUP without dropping connections'),
    keyFile: z.string().min(1).describe('PEM private key of certFile; re-read on SIGHUP'),
    caFile: z.string().min(1).optional().describe('PEM CA bundle that signs device certificates (required when clientCert is not "none"); re-read on SIGHUP'),
    clientCert: z
      .enum(['none', 'optional', 'require'])
      .default('none')
      .describe('Device certificates (mTLS): none; optional (a valid certificate identifies the device, others log in with a password); require (handshake fails without one signed by caFile)'),
    identityFrom: z
      .enum(['cn', 'san'])
      .default('cn')
      .describe("Where a device certificate names the device: its subject CN, or its first DNS/URI subjectAltName. The MQTT client id must equal it"),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Lowest TLS version accepted'),
  })
  .refine((t) => t.clientCert === 'none' || t.caFile !== undefined, { message: 'caFile is required when clientCert is "optional" or "require"', path: ['caFile'] });

export const listenerSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1').describe('Address to bind (0.0.0.0 or :: for every interface)'),
  port: z.number().int().min(0).max(65535).default(1883).describe('TCP port (0 = any free port); 8883 is usual for TLS'),
  tls: listenerTlsSchema.optional().describe('Serve MQTT over TLS on this listener'),
  allowAnonymous: z
    .boolean()
    .optional()
    .describe('Let clients in without a password or certificate (their identity is then their client id, which may not be a provisioned device id). Default: true on a loopback address, false elsewhere; setting true on a non-loopback listener logs a warning at start'),
});

export type ListenerConfig = z.infer<typeof listenerSchema>;
export type ListenerTlsConfig = z.infer<typeof listenerTlsSchema>;

/** 127.0.0.0/8, ::1, localhost: the addresses where anonymous is the default (mosquitto 2.x). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::ffff:127.0.0.1';
}

/** The listener's anonymous policy after defaults. */
export function allowsAnonymous(l: ListenerConfig): boolean {
  return l.allowAnonymous ?? isLoopbackHost(l.host);
}
