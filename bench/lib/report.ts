/** Prints a markdown table and writes it (with JSON data and machine facts) under bench/results/. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineFacts } from './machine.js';

const resultsDir = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

export type Row = Record<string, string | number>;

export function markdownTable(rows: readonly Row[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const cols = Object.keys(rows[0]!);
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(cols), line(cols.map(() => '---')), ...rows.map((r) => line(cols.map((c) => r[c] ?? '')))].join('\n') + '\n';
}

export function writeResult(scenario: string, title: string, rows: readonly Row[], data: Record<string, unknown>, notes: string[] = []): void {
  const facts = machineFacts();
  const table = markdownTable(rows);
  const md = `## ${title}\n\n${table}\n${notes.map((n) => `- ${n}`).join('\n')}${notes.length ? '\n' : ''}\nMachine: ${facts.cores} x ${facts.cpuModel}, ${facts.memoryGiB} GiB, Node ${facts.node}, ${facts.date}\n`;
  process.stdout.write(`\n${md}`);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${scenario}.md`), md);
  writeFileSync(join(resultsDir, `${scenario}.json`), `${JSON.stringify({ scenario, title, machine: facts, rows, data }, null, 2)}\n`);
  writeIndex();
}

const ORDER = ['ingest', 'e2e', 'drain', 'codecs', 'connections', 'memory-curve', 'heap', 'start', 'node-sqlite', 'profile', 'compare', 'fuzz', 'power-cut'];

/** bench/results/README.md: every scenario's latest table, in a fixed order. */
function writeIndex(): void {
  const parts = readdirSync(resultsDir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .sort((a, b) => rank(a) - rank(b))
    .map((f) => readFileSync(join(resultsDir, f), 'utf8'));
  const head = '# Benchmark results\n\nReproduce with `npm run bench -- <scenario>` (see bench/run.ts). Tables are from one machine; quote ratios measured side by side in the same run, not absolute numbers across machines.\n\n';
  writeFileSync(join(resultsDir, 'README.md'), head + parts.join('\n'));
}

function rank(file: string): number {
  const i = ORDER.indexOf(file.replace(/\.md$/, '').replace(/^compare-.*/, 'compare'));
  return i < 0 ? ORDER.length : i;
}

export const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
