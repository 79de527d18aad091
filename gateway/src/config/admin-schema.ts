/**
 * The `admin` section: the control room's HTTP listener for probes, status and Prometheus
 * metrics (/healthz, /readyz, /status, /metrics). Loopback by default; bound anywhere else it
 * must authenticate its callers (a bearer token, or an operator's TLS client certificate).
 */
import { z } from 'zod';
import { isLoopbackHost } from './mqtt-listener-schema.js';
import { live, secret } from './schema-helpers.js';

export const adminTlsSchema = z
  .strictObject({
    certFile: z.string().min(1).describe('PEM server certificate (chain) of the admin listener'),
    keyFile: z.string().min(1).describe('PEM private key of certFile'),
    caFile: z.string().min(1).optional().describe('PEM CA bundle that signs operator certificates (required when clientCert is not "none")'),
    clientCert: z
      .enum(['none', 'optional', 'require'])
      .default('none')
      .describe('Operator certificates: none; optional (a certificate signed by caFile authenticates, else the bearer token); require (the handshake fails without one)'),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Lowest TLS version accepted'),
  })
  .refine((t) => t.clientCert === 'none' || t.caFile !== undefined, { message: 'caFile is required when clientCert is "optional" or "require"', path: ['caFile'] });

export const adminSchema = live(
  z
    .strictObject({
      enabled: z.boolean().default(true).describe('Serve /healthz, /readyz, /status and /metrics (Prometheus) over HTTP'),
      host: z.string().min(1).default('127.0.0.1').describe('Address to bind; anything but loopback needs `token` or `tls.clientCert: require`'),
      port: z.number().int().min(0).max(65535).default(9883).describe('TCP port (0 = any free port; the `admin_listening` log line names the port bound)'),
      token: secret(z.string().min(16, 'at least 16 characters').optional()).describe(
        'Bearer token (Authorization: Bearer <token>) required on every endpoint but /healthz; env GATEWAY_ADMIN_TOKEN. Never sent by a push',
      ),
      tls: adminTlsSchema.optional().describe('Serve HTTPS; with clientCert, operator certificates signed by caFile authenticate'),
    })
    .prefault({})
    .refine((a) => isLoopbackHost(a.host) || a.token !== undefined || a.tls?.clientCert === 'require', {
      message: 'a non-loopback admin host needs a token (GATEWAY_ADMIN_TOKEN) or tls.clientCert: require',
      path: ['token'],
    }),
).describe('Admin HTTP listener (applied live: the control room restarts it; the pipeline is not touched)');

export type AdminConfig = z.infer<typeof adminSchema>;
export type AdminTlsConfig = z.infer<typeof adminTlsSchema>;
