/**
 * Reads a device import file for `edge-gateway devices import`:
 *   CSV   one `deviceId[,secret]` per line; an optional `deviceId,secret` header; blank lines and
 *         lines starting with '#' skipped. An empty or absent secret is generated.
 *   JSON  an array of {"deviceId": "...", "secret"?: "..."}.
 * Every bad row is reported by line (CSV) or entry number (JSON), all at once.
 */
import { gatewayError } from '../errors.js';
import type { ImportEntry } from '../ingest/device-credentials.js';
import { deviceIdProblem } from '../ingest/device-id.js';
import { secretProblem } from '../ingest/secret-hash.js';

export interface ImportRow extends ImportEntry {
  /** "line 3" (CSV) or "entry 2" (JSON), for messages. */
  where: string;
}

export type ImportFormat = 'csv' | 'json';

const MAX_REPORTED = 20;

/** JSON when the name ends in .json or the text starts with '['; CSV otherwise. */
export function importFormat(fileName: string, text: string): ImportFormat {
  if (/\.json$/i.test(fileName)) return 'json';
  return text.replace(/^\uFEFF/, '').trimStart().startsWith('[') ? 'json' : 'csv';
}

export function parseDeviceImport(text: string, format: ImportFormat, source = 'import file'): ImportRow[] {
  const problems: string[] = [];
  const firstSeen = new Map<string, string>();
  // Rows are checked as they are read, so problems come out in file order.
  const check = (row: ImportRow): void => {
    const idProblem = deviceIdProblem(row.deviceId);
    if (idProblem) problems.push(`${row.where}: device id ${JSON.stringify(String(row.deviceId).slice(0, 140))} ${idProblem}`);
    if (row.secret !== undefined) {
      const sp = secretProblem(row.secret);
      if (sp) problems.push(`${row.where}: secret ${sp}`);
    }
    const earlier = firstSeen.get(row.deviceId);
    if (earlier) problems.push(`${row.where}: ${row.deviceId} already appears on ${earlier}`);
    else firstSeen.set(row.deviceId, row.where);
  };
  const rows = format === 'json' ? parseJson(text, problems, check) : parseCsv(text, problems, check);
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_REPORTED);
    if (problems.length > MAX_REPORTED) shown.push(`... and ${problems.length - MAX_REPORTED} more`);
    throw gatewayError('GW_ERR_AUTH_IMPORT_INVALID', `${source}:\n  ${shown.join('\n  ')}`, { details: { problems } });
  }
  if (rows.length === 0) throw gatewayError('GW_ERR_AUTH_IMPORT_INVALID', `${source}: no devices in it`);
  return rows;
}

type RowCheck = (row: ImportRow) => void;

function parseCsv(text: string, problems: string[], check: RowCheck): ImportRow[] {
  const rows: ImportRow[] = [];
  let headerAllowed = true;
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const where = `line ${i + 1}`;
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const fields = line.split(',').map(unquote);
      if (headerAllowed) {
        headerAllowed = false;
        const names = fields.map((f) => f.toLowerCase());
        if (names[0] === 'deviceid' && (names.length === 1 || (names.length === 2 && names[1] === 'secret'))) return;
      }
      if (fields.length > 2) {
        problems.push(`${where}: expected deviceId[,secret], found ${fields.length} fields (a secret with ',' needs a JSON file)`);
        return;
      }
      const [deviceId, secret] = fields as [string, string | undefined];
      const row: ImportRow = { deviceId, secret: secret === undefined || secret === '' ? undefined : secret, where };
      check(row);
      rows.push(row);
    });
  return rows;
}

/** Spreadsheets quote fields: "dev-1" -> dev-1. */
function unquote(field: string): string {
  const f = field.trim();
  return f.length >= 2 && f.startsWith('"') && f.endsWith('"') ? f.slice(1, -1) : f;
}

function parseJson(text: string, problems: string[], check: RowCheck): ImportRow[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    problems.push(`not valid JSON: ${(err as Error).message}`);
    return [];
  }
  if (!Array.isArray(doc)) {
    problems.push('expected a JSON array of {"deviceId": ..., "secret"?: ...}');
    return [];
  }
  const rows: ImportRow[] = [];
  doc.forEach((item: unknown, i) => {
    const where = `entry ${i + 1}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${where}: expected an object {"deviceId": ..., "secret"?: ...}`);
      return;
    }
    const { deviceId, secret, ...rest } = item as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) problems.push(`${where}: unknown key(s) ${extra.join(', ')}`);
    if (typeof deviceId !== 'string') {
      problems.push(`${where}: deviceId must be a string`);
      return;
    }
    if (secret !== undefined && secret !== null && typeof secret !== 'string') {
      problems.push(`${where}: secret must be a string`);
      return;
    }
    const row: ImportRow = { deviceId, secret: typeof secret === 'string' && secret !== '' ? secret : undefined, where };
    check(row);
    rows.push(row);
  });
  return rows;
}
