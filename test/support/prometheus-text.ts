/**
 * Parses a Prometheus text exposition with the reference parser of the official Python client
 * (prometheus_client.parser.text_string_to_metric_families; `pip install prometheus-client`,
 * done by .ci/run), not with regexes: a line it cannot parse fails the test.
 */
import { execFile } from 'node:child_process';

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  /** Family name as the parser reports it (a counter's without `_total`). */
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

const SCRIPT = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": (s.value if math.isfinite(s.value) else str(s.value))} for s in f.samples]})
json.dump(out, sys.stdout)
`;

export function parsePrometheusText(text: string): Promise<PromFamily[]> {
  return new Promise((resolve, reject) => {
    const child = execFile('python3', ['-c', SCRIPT], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`prometheus_client parser refused the exposition: ${stderr || err.message}`));
      resolve(JSON.parse(stdout) as PromFamily[]);
    });
    child.stdin!.end(text);
  });
}

/** Value of the sample `name` whose labels include `labels`; undefined when absent. */
export function sampleValue(families: readonly PromFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
