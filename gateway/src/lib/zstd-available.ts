/**
 * Whether this Node.js can compress zstd: node:zlib's zstdCompressSync, which @platformatic/kafka
 * uses for `compression: zstd`, arrived in Node 22.15 / 23.8 (absent on Node 20).
 */
import zlib from 'node:zlib';

export function zstdAvailable(): boolean {
  return typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
}
