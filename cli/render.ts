/** How the CLI prints things: log lines coloured like `aka logs`, tables, status and metrics. */
import pc from 'picocolors';
import type { Schemas } from './api';
import { bar, formatNumber, metricUnit, sparkline } from './chart';

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colours on when stdout is a terminal, unless `--no-color` or NO_COLOR; FORCE_COLOR forces them on
 * (useful when piping into `less -R`).
 */
export function colorsEnabled(flag: boolean, env: Record<string, string | undefined>, isTTY: boolean | undefined): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(isTTY);
}

const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;
const CONTROLS_ALL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/**
 * Text from the server with every C0 control but tab, DEL and C1 control shown as `\xHH`: whatever
 * a server (or a tenant's line through it) sends, the terminal only prints it, on one line.
 */
export function visible(text: string): string {
  return CONTROLS.test(text) ? text.replace(CONTROLS_ALL, (c) => `\\x${hex(c, 2)}`) : text;
}

/** An NDJSON line with the same controls as `\u00HH`: the same JSON value, harmless on a terminal. */
export function visibleJson(line: string): string {
  return CONTROLS.test(line) ? line.replace(CONTROLS_ALL, (c) => `\\u${hex(c, 4)}`) : line;
}

function hex(c: string, width: number): string {
  return c.charCodeAt(0).toString(16).padStart(width, '0');
}

/** aka's pattern for `<ts>Z <host> <source>[<dyno>]: ` (akkeris/cli plugins/logs `highlight`). */
const LINE_HEAD = /^([A-Za-z0-9:+.-]+Z) ([A-Za-z0-9.-]+) ([A-Za-z0-9./[\]-]+): /;

/** aka's colours: timestamp cyan, host plain, source 256-colour 104 (a soft violet). */
export function colorLogLine(line: string, enabled: boolean): string {
  const safe = visible(line);
  if (!enabled) return safe;
  return safe.replace(LINE_HEAD, (_m, ts: string, host: string, source: string) => `\u001b[36m${ts}\u001b[0m ${host} \u001b[38;5;104m${source}:\u001b[0m `);
}

/** Fixed-width columns; the last column is not padded. */
export function table(headers: string[], rows: string[][], c: Colors): string {
  const safeRows = rows.map((r) => r.map(visible));
  const widths = headers.map((h, i) => Math.max(h.length, ...safeRows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [c.bold(fmt(headers)), ...safeRows.map(fmt)].join('\n') + '\n';
}

export type DependencyState = Schemas['DependencyState'];

export function renderStatus(baseUrl: string, body: Partial<Schemas['Readiness']>, c: Colors): string {
  const up = body.state === 'UP';
  const mark = (s: string) => (s === 'UP' ? c.green(s) : c.red(visible(String(s))));
  let out = `logway ${baseUrl}: ${mark(body.state ?? 'UNKNOWN')}\n`;
  const deps = body.dependencies ?? {};
  const width = Math.max(0, ...Object.keys(deps).map((k) => visible(k).length));
  for (const [name, dep] of Object.entries(deps)) {
    out += `  ${visible(name).padEnd(width)}  ${mark(dep.state)}${dep.error ? `  ${c.dim(visible(dep.error))}` : ''}\n`;
  }
  if (!up && body.message) out += `${visible(body.message)}\n`;
  return out;
}

/** `{web:{memory_usage_bytes:{"<epoch s>":v}}}` → one block per process type and metric: heading, sparkline, min/max/last bars. */
export function renderMetrics(data: Schemas['MetricsSeries'], width: number, c: Colors): string {
  let out = '';
  const types = Object.keys(data).sort();
  if (types.length === 0) return 'No metrics in this range.\n';
  const chartWidth = Math.max(10, Math.min(100, width - 4));
  for (const type of types) {
    out += c.bold(`=== ${type}`) + '\n';
    for (const metric of Object.keys(data[type]).sort()) {
      const series = data[type][metric];
      const keys = Object.keys(series).sort((a, b) => Number(a) - Number(b));
      const { unit, scale } = metricUnit(metric);
      const values = keys.map((k) => scale(Number(series[k])));
      const finite = values.filter(Number.isFinite);
      if (finite.length === 0) {
        out += `${metric}  ${c.dim('no samples')}\n`;
        continue;
      }
      const min = Math.min(...finite);
      const max = Math.max(...finite);
      const last = finite[finite.length - 1];
      const from = new Date(Number(keys[0]) * 1000).toISOString();
      const to = new Date(Number(keys[keys.length - 1]) * 1000).toISOString();
      out += `${c.cyan(metric)} ${c.dim(`(${unit || 'value'}) ${finite.length} samples ${from} → ${to}`)}\n`;
      out += `  ${c.magenta(sparkline(finite, chartWidth))}\n`;
      const barWidth = Math.max(5, Math.min(40, chartWidth - 20));
      for (const [label, v] of [
        ['min', min],
        ['max', max],
        ['last', last],
      ] as const) {
        out += `  ${label.padEnd(4)} ${formatNumber(v).padStart(10)} ${unit.padEnd(4)} ${c.magenta(bar(v, max, barWidth))}\n`;
      }
    }
  }
  return out;
}
