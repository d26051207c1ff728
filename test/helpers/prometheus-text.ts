/**
 * A reader for the Prometheus text exposition format 0.0.4, enough for the tests to check what a
 * server's `/metrics` says (https://prometheus.io/docs/instrumenting/exposition_formats/). Pure: no
 * I/O. The server itself never reads its `/metrics`: `herd status` and the dashboard read `/status`.
 */

/** One sample line: `name{label="value",...} value [timestamp]`. */
export interface PrometheusSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The value; `NaN`, `+Inf` and `-Inf` are read as such. */
  readonly value: number;
}

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN' || text === 'Nan') return Number.NaN;
  return Number(text);
}

/**
 * Parses every sample line of a text exposition; comments (`# HELP`, `# TYPE`) and blank lines are
 * skipped, and so is any line that is not a well-formed sample (a reader must not fail on one odd
 * line). Label values are unescaped (`\\`, `\"`, `\n`).
 */
export function parsePrometheusText(text: string): PrometheusSample[] {
  const samples: PrometheusSample[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const nameMatch = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(line);
    if (nameMatch === null) continue;
    const name = nameMatch[0];
    let i = name.length;
    const labels: Record<string, string> = {};
    let ok = true;
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ' || line[i] === ',') i++;
        if (line[i] === '}') {
          i++;
          break;
        }
        const labelMatch = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"/.exec(line.slice(i));
        if (labelMatch === null) {
          ok = false;
          break;
        }
        i += labelMatch[0].length;
        let value = '';
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < line.length) {
            const next = line[i + 1];
            value += next === 'n' ? '\n' : next;
            i += 2;
          } else {
            value += line[i];
            i++;
          }
        }
        if (line[i] !== '"') {
          ok = false;
          break;
        }
        i++;
        labels[labelMatch[1] as string] = value;
      }
    }
    if (!ok) continue;
    const rest = line.slice(i).trim().split(/\s+/);
    if (rest[0] === undefined || rest[0] === '') continue;
    const value = parseValue(rest[0]);
    if (Number.isNaN(value) && rest[0] !== 'NaN' && rest[0] !== 'Nan') continue;
    samples.push({ name, labels, value });
  }
  return samples;
}

/**
 * The value of the first sample named `name` whose labels include every pair of `labels`.
 *
 * @returns undefined when there is none.
 */
export function findSample(
  samples: readonly PrometheusSample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) return sample.value;
  }
  return undefined;
}
