/** `edge-gateway schemas export DIR`: writes every envelope schema a consumer needs, as .avsc. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { createAvroEncoder } from '../encode/avro-encoder.js';
import type { SingleObjectCodec } from '../encode/single-object.js';
import { gatewayError } from '../errors.js';

export async function runSchemasCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, allowPositionals: true, strict: true });
  const [verb, dir] = positionals;
  if (verb !== 'export' || !dir) throw gatewayError('GW_ERR_CLI_USAGE', 'expected: schemas export DIR');
  const config = loadConfig({ path: values.config ?? process.env['GATEWAY_CONFIG'] });
  const encoder = createAvroEncoder({ gatewayId: config.gatewayId, defaultTopic: config.kafka.topic, routes: config.mqtt.routes });
  mkdirSync(dir, { recursive: true });
  // One file per distinct schema (routes sharing a schema share a file). Two schemas with the
  // same name (a route with unknownFields: extra adds a field) get the fingerprint in the file name.
  const distinct = [...new Map(encoder.allCodecs().map((c) => [c.fingerprint, c])).values()];
  const nameOf = (c: SingleObjectCodec) => (c.type.name ?? 'schema').replace(/^.*\./, '');
  for (const codec of distinct) {
    const name = nameOf(codec);
    const shared = distinct.filter((c) => nameOf(c) === name).length > 1;
    const file = join(dir, shared ? `${name}-${codec.fingerprintHex}.avsc` : `${name}.avsc`);
    // Full schema with docs and logical types; the fingerprint is of its canonical form.
    writeFileSync(file, `${JSON.stringify(codec.type.schema({ exportAttrs: true }), null, 2)}\n`);
    process.stdout.write(`${file}  fingerprint(CRC-64-AVRO, wire LE hex)=${codec.fingerprintHex}\n`);
  }
  return 0;
}
