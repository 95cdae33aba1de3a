/** Metrics: one uPlot chart per metric, a mean and a p90 series per process type, refreshed while the range ends now. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, type Schemas } from '../api';
import { errorBox, field, h } from '../dom';

type Series = Schemas['MetricsSeries'];
const RESOLUTIONS = ['1m', '5m', '10m', '15m', '20m', '30m', '1h', '6h', '12h', '1d'];
const RANGES: [string, number][] = [
  ['Last hour', 3600],
  ['Last 6 hours', 6 * 3600],
  ['Last 24 hours', 86400],
  ['Last 7 days', 7 * 86400],
];
/** Distinguishable on white and dark enough for 3:1 against it (WCAG non-text contrast). */
const PALETTE = ['#1f5fbf', '#b3261e', '#2e7d32', '#8a4f00', '#6a1b9a', '#00695c', '#ad1457', '#37474f'];

export function unitOf(metric: string): string {
  if (metric.endsWith('_seconds_total')) return 's/s';
  if (metric.endsWith('_bytes_total')) return 'B/s';
  if (metric.endsWith('_errors_total')) return '/s';
  if (metric.endsWith('_bytes') || metric.startsWith('memory_')) return 'B';
  return '';
}

export function formatValue(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (unit === 'B' || unit === 'B/s') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let x = Math.abs(v);
    let i = 0;
    while (x >= 1024 && i < units.length - 1) {
      x /= 1024;
      i++;
    }
    return `${(Math.sign(v) * x).toFixed(i ? 1 : 0)} ${units[i]}${unit === 'B/s' ? '/s' : ''}`;
  }
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
  return unit ? `${n} ${unit}` : n;
}

export interface MetricsHandle {
  charts: Map<string, uPlot>;
  dispose(): void;
}

export function metricsPage(root: HTMLElement, app: string): MetricsHandle {
  const charts = new Map<string, uPlot>();
  const resolution = h('select', { name: 'resolution' }, ...RESOLUTIONS.map((r) => h('option', { value: r, selected: r === '10m' }, r)));
  const span = h(
    'select',
    { name: 'range' },
    ...RANGES.map(([label, s]) => h('option', { value: String(s), selected: s === 6 * 3600 }, label)),
    h('option', { value: 'custom' }, 'Custom from/to'),
  );
  const from = h('input', { type: 'datetime-local', name: 'from', disabled: true });
  const to = h('input', { type: 'datetime-local', name: 'to', disabled: true });
  const status = h('p', { class: 'status', 'data-testid': 'metrics-status' });
  const errors = h('div', {});
  const grid = h('div', { class: 'charts' });
  let timer = 0;
  let disposed = false;

  span.addEventListener('change', () => {
    from.disabled = to.disabled = span.value !== 'custom';
  });

  function range(): { from: Date; to: Date; live: boolean } {
    if (span.value === 'custom' && from.value) {
      const t = to.value ? new Date(to.value) : new Date();
      return { from: new Date(from.value), to: t, live: !to.value };
    }
    const t = new Date();
    return { from: new Date(t.getTime() - Number(span.value) * 1000), to: t, live: true };
  }

  async function load(): Promise<void> {
    clearTimeout(timer);
    const r = range();
    const q = `resolution=${resolution.value}&from=${encodeURIComponent(r.from.toISOString())}&to=${encodeURIComponent(r.to.toISOString())}`;
    const base = `/apps/${encodeURIComponent(app)}/metrics?${q}`;
    status.textContent = 'Loading…';
    try {
      const [mean, p90] = await Promise.all([api<Series>('GET', base), api<Series>('GET', `${base}&stat=p90`)]);
      if (disposed) return;
      errors.replaceChildren();
      draw(mean, p90);
      status.textContent = `${charts.size} metrics, ${resolution.value} buckets${r.live ? ', refreshing every 30 s' : ''}.`;
      status.dataset.ready = 'true';
    } catch (e) {
      status.textContent = 'Could not load metrics';
      errors.replaceChildren(errorBox((e as Error).message));
    }
    if (r.live && !disposed) timer = window.setTimeout(() => void load(), 30_000);
  }

  function draw(mean: Series, p90: Series): void {
    const types = Object.keys(mean).sort();
    const metrics = [...new Set(types.flatMap((t) => Object.keys(mean[t])))].sort();
    for (const [name, c] of charts) {
      if (!metrics.includes(name)) {
        c.destroy();
        charts.delete(name);
      }
    }
    grid.replaceChildren();
    if (!metrics.length) grid.append(h('p', {}, 'No metrics for this app in this range.'));
    for (const metric of metrics) {
      const unit = unitOf(metric);
      const stamps = [...new Set(types.flatMap((t) => Object.keys(mean[t][metric] ?? {})))].map(Number).sort((a, b) => a - b);
      const data: (number | null)[][] = [stamps];
      const series: uPlot.Series[] = [{ label: 'time' }];
      types.forEach((t, i) => {
        const colour = PALETTE[i % PALETTE.length];
        for (const [stat, src] of [
          ['mean', mean],
          ['p90', p90],
        ] as const) {
          const values = src[t]?.[metric] ?? {};
          data.push(stamps.map((s) => values[String(s)] ?? null));
          series.push({
            label: `${t} ${stat}`,
            stroke: colour,
            width: stat === 'mean' ? 2 : 1,
            dash: stat === 'p90' ? [6, 4] : undefined,
            value: (_u, v) => formatValue(v, unit),
          });
        }
      });
      const title = `${metric}${unit ? ` (${unit})` : ''}`;
      const box = h('figure', { class: 'chart', 'data-metric': metric, 'data-points': String(stamps.length) }, h('figcaption', {}, title));
      grid.append(box);
      const opts: uPlot.Options = {
        width: Math.max(320, Math.min(560, grid.clientWidth - 16)),
        height: 200,
        series,
        axes: [{}, { values: (_u, vals) => vals.map((v) => formatValue(v, unit)), size: 80 }],
        legend: { live: true },
        cursor: { focus: { prox: 16 } },
      };
      const old = charts.get(metric);
      old?.destroy();
      const chart = new uPlot(opts, data as uPlot.AlignedData, box);
      charts.set(metric, chart);
    }
  }

  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Metrics range' },
    field('Resolution', resolution),
    field('Range', span),
    field('From', from),
    field('To', to),
    h('button', { type: 'submit', class: 'primary' }, 'Show'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  root.replaceChildren(form, status, errors, grid);
  void load();
  return {
    charts,
    dispose() {
      disposed = true;
      clearTimeout(timer);
      for (const c of charts.values()) c.destroy();
      charts.clear();
    },
  };
}
