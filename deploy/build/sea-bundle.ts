/**
 * One CommonJS file for the SEA main script (a SEA main must be CommonJS): the compiled gateway
 * and firmware-sim (build/, from tsc, so the binary runs exactly the code the tests ran) with all
 * dependencies, bundled by esbuild for Node 24.
 *
 * Three things differ from running from node_modules, handled here rather than in product code:
 * - the SEA main script's own `require` loads only built-in modules: the banner replaces it with
 *   a real one (better-sqlite3 loads its addon with `require(<path>.node)`);
 * - `import.meta.url` does not exist in CommonJS: it is defined as the executable's file URL;
 * - better-sqlite3 finds its default addon in its own package directory (lib/binding.js: build/
 *   or prebuilds/): that module is replaced by one that loads the embedded addon
 *   (gateway/src/lib/native-sqlite.ts), so every `new Database()` works, with or without
 *   `nativeBinding`;
 * - @platformatic/wasm-utils reads its .wasm file next to itself: its `bundled` entry, with the
 *   module inlined, is used instead;
 * - @platformatic/kafka compiles ~40 ajv validators when it is imported (admin, consumer and
 *   schema-registry options too), which cost ~0.5 s of start and ~30 MiB on x64 while the gateway
 *   uses three of them: inside the bundle its ajv compiles a schema on the validator's first call.
 *
 * The bundle is whitespace-minified and ASCII-only: V8 keeps the whole main script on the heap as
 * one string for the life of the process, and a single non-ASCII character (a "§" in a JSDoc
 * comment) makes it a two-byte string. Unminified with comments that was 9.7 MB of heap; minified
 * and one-byte it is ~3.2 MB, and the script's line-ends table (1 MB) shrinks to nothing (heap
 * snapshot of the empty gateway, 2026-12-06; empty gateway RssAnon 54 -> 44 MiB). Identifiers are
 * kept, so stack traces still name functions (at line 1, a column); licence comments move to the
 * end of the file, where a non-ASCII one fails this build rather than doubling the heap.
 */
import { build, type Plugin } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './binary-targets.js';

export interface BundleResult {
  path: string;
  bytes: number;
  warnings: string[];
}

const IMPORT_META_URL = '__edgeGatewayImportMetaUrl';

export async function bundleGateway(outFile: string, gatewayVersion: string): Promise<BundleResult> {
  const nativeSqlite = join(REPO_ROOT, 'build', 'gateway', 'src', 'lib', 'native-sqlite.js');
  const banner = [
    '// edge-gateway single executable: gateway + firmware-sim, bundled by esbuild.',
    'var require = require("node:module").createRequire(process.execPath);',
    `var ${IMPORT_META_URL} = require("node:url").pathToFileURL(process.execPath).href;`,
    `globalThis.__EDGE_GATEWAY_VERSION__ = ${JSON.stringify(gatewayVersion)};`,
  ].join('\n');

  const embeddedBindings: Plugin = {
    name: 'embedded-sqlite-binding',
    setup(b) {
      b.onResolve({ filter: /^\.\/binding(\.js)?$/ }, (args) =>
        /[\\/]better-sqlite3[\\/]lib$/.test(args.resolveDir) ? { path: 'binding', namespace: 'embedded-sqlite-binding' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'embedded-sqlite-binding' }, () => ({
        resolveDir: REPO_ROOT,
        loader: 'js',
        contents: `
const { sqliteNativeBinding } = require(${JSON.stringify(nativeSqlite)});
// better-sqlite3 lib/binding.js's contract: a path or an addon object as given, else the default.
exports.getBinding = function getBinding(nativeBinding) {
  if (typeof nativeBinding === 'string') return require(require('node:path').resolve(nativeBinding).replace(/(\\.node)?$/, '.node'));
  if (typeof nativeBinding === 'object' && nativeBinding !== null) return nativeBinding;
  const path = sqliteNativeBinding();
  if (!path) throw new Error('not running as the single executable: set EDGE_GATEWAY_SQLITE_BINDING');
  return require(path);
};`,
      }));
    },
  };

  const lazyAjv: Plugin = {
    name: 'lazy-ajv-for-kafka-client',
    setup(b) {
      b.onResolve({ filter: /^ajv\/dist\/2020(\.js)?$/ }, (args) =>
        /[\\/]@platformatic[\\/]kafka[\\/]/.test(args.importer) ? { path: 'lazy-ajv', namespace: 'lazy-ajv', pluginData: args.resolveDir } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'lazy-ajv' }, (args) => ({
        resolveDir: args.pluginData as string,
        loader: 'js',
        contents: `
const { Ajv2020: Eager } = require('ajv/dist/2020.js');
class Ajv2020 extends Eager {
  compile(schema, meta) {
    let compiled;
    const validate = (data) => {
      compiled ??= super.compile(schema, meta);
      const ok = compiled(data);
      validate.errors = compiled.errors;
      return ok;
    };
    validate.errors = null;
    return validate;
  }
}
module.exports = { Ajv2020, default: Ajv2020 };`,
      }));
    },
  };

  const result = await build({
    entryPoints: [join(REPO_ROOT, 'build', 'deploy', 'build', 'sea-entry.js')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    banner: { js: banner },
    define: { 'import.meta.url': IMPORT_META_URL },
    alias: { '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' },
    plugins: [embeddedBindings, lazyAjv],
    minifyWhitespace: true,
    charset: 'ascii',
    legalComments: 'eof',
    logLevel: 'silent',
    metafile: true,
  });
  if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join('\n'));
  const nonAscii = firstNonAscii(readFileSync(outFile, 'latin1'));
  if (nonAscii >= 0) throw new Error(`${outFile}: non-ASCII byte at offset ${nonAscii}: V8 would hold the script as a two-byte string (twice the heap)`);
  const out = Object.values(result.metafile.outputs)[0];
  return { path: outFile, bytes: out?.bytes ?? 0, warnings: result.warnings.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`) };
}

/** Offset of the first byte above 0x7f, or -1. */
function firstNonAscii(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return i;
  return -1;
}
