/** logway's own health: /health/ready's dependencies and a few figures from /metrics. */
import { ApiError, type Schemas } from './api';
import { errorBox, h } from './dom';
import { promFigures, sum } from './prom';

type Ready = Schemas['Readiness'];

export function healthPage(root: HTMLElement): { dispose(): void } {
  let disposed = false;
  let timer = 0;
  let prev: { at: number; lines: number } | undefined;
  const box = h('div', { 'data-testid': 'health' });

  async function ready(): Promise<Ready> {
    const res = await fetch('/health/ready', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    return (await res.json()) as Ready;
  }

  async function refresh(): Promise<void> {
    try {
      const [r, m] = await Promise.all([ready(), promFigures()]);
      if (disposed) return;
      const lines = sum(m, 'logway_lines_consumed_total', { consumer: 'tail' }) ?? 0;
      const now = Date.now();
      const rate = prev ? ((lines - prev.lines) * 1000) / (now - prev.at) : undefined;
      prev = { at: now, lines };
      const lag = m.get('logway_tail_hub_lag')?.values.reduce((a, v) => a + v.value, 0);
      const failing = m.get('logway_drain_failed_total')?.values.filter((v) => v.value > 0).length;
      const figures: [string, string][] = [
        ['Log sessions open', String(sum(m, 'logway_tail_sessions_active') ?? '–')],
        ['Lines consumed per second', rate === undefined ? 'measuring…' : rate.toFixed(1)],
        ['Lines consumed (total)', String(lines)],
        ['Tail hub lag (messages)', lag === undefined ? '–' : String(lag)],
        ['Drains with failed deliveries', failing === undefined ? '–' : String(failing)],
        ['DLQ depth', String(sum(m, 'logway_dlq_depth') ?? '–')],
      ];
      box.replaceChildren(
        h('h2', { class: 'sub' }, 'Readiness: ', h('span', { class: `state state-${r.state.toLowerCase()}`, 'data-testid': 'ready-state' }, r.state)),
        h('p', { hidden: !r.message }, r.message ?? ''),
        h(
          'table',
          { class: 'deps' },
          h('caption', {}, 'Dependencies'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Dependency'), h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'Error'))),
          h(
            'tbody',
            {},
            ...Object.entries(r.dependencies).map(([name, d]) =>
              h('tr', {}, h('th', { scope: 'row' }, name), h('td', { class: `state state-${d.state.toLowerCase()}` }, d.state), h('td', {}, d.error ?? '')),
            ),
          ),
        ),
        h('h2', { class: 'sub' }, 'This node'),
        h('dl', { class: 'figures' }, ...figures.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      );
    } catch (e) {
      box.replaceChildren(errorBox(e instanceof ApiError ? e.message : `Health could not be read: ${(e as Error).message}`));
    }
    if (!disposed) timer = window.setTimeout(() => void refresh(), 5000);
  }
  root.replaceChildren(h('h2', {}, 'Health'), box);
  void refresh();
  return {
    dispose() {
      disposed = true;
      clearTimeout(timer);
    },
  };
}
