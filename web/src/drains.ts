/** Drains of an app: list, add (the API's own error message shown as it comes), remove; delivery figures and the DLQ. */
import { api, type Schemas } from './api';
import { announce, errorBox, field, h, relTime } from './dom';
import { promFigures, sum } from './prom';
import { fromNdjson } from './logs/line';

type Drain = Schemas['Drain'];
type DlqList = Schemas['DlqList'];

export function drainsPage(root: HTMLElement, kind: 'apps' | 'sites', key: string): { dispose(): void } {
  const base = `/${kind}/${encodeURIComponent(key)}/log-drains`;
  const url = h('input', {
    type: 'text',
    name: 'url',
    placeholder: 'syslog+tls://logs.example.com:6514',
    autocomplete: 'off',
    required: true,
    spellcheck: false,
  });
  const formError = h('div', { 'data-testid': 'drain-error' });
  const list = h('div', { 'data-testid': 'drains' });
  let disposed = false;
  let timer = 0;

  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Add a drain' },
    field('Drain URL', url, 'syslog://, syslog+tls://, syslog+udp://, http:// or https://'),
    h('button', { type: 'submit', class: 'primary' }, 'Add drain'),
  );
  async function addDrain(): Promise<void> {
    formError.replaceChildren();
    try {
      const d = await api<Drain>('POST', base, { url: url.value.trim() });
      url.value = '';
      announce(`Drain ${d.url} added.`);
      await refresh();
    } catch (err) {
      formError.replaceChildren(errorBox((err as Error).message));
      url.focus();
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void addDrain();
  });

  async function act(fn: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await fn();
      announce(done);
    } catch (err) {
      formError.replaceChildren(errorBox((err as Error).message));
    }
    await refresh();
  }

  async function refresh(): Promise<void> {
    clearTimeout(timer);
    try {
      const [drains, figures] = await Promise.all([api<Drain[]>('GET', base), promFigures().catch(() => new Map())]);
      const dlqs = await Promise.all(drains.map((d) => api<DlqList>('GET', `/drains/dlq?drain=${d.id}&limit=20`).catch(() => null)));
      if (disposed) return;
      if (!drains.length) {
        list.replaceChildren(h('p', {}, 'No drains.'));
      } else {
        list.replaceChildren(
          ...drains.map((d, i) => {
            const dlq = dlqs[i];
            const delivered = sum(figures, 'logway_drain_delivered_total', { drain: d.id });
            const failed = sum(figures, 'logway_drain_failed_total', { drain: d.id });
            const lastError = dlq?.items.length ? dlq.items[dlq.items.length - 1].last_error : null;
            const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Remove drain ${d.url}` }, 'Remove');
            remove.addEventListener('click', () => void act(() => api('DELETE', `${base}/${d.id}`), `Drain ${d.url} removed.`));
            const retry = h('button', { type: 'button', disabled: !dlq?.count, 'aria-label': `Retry parked lines of ${d.url}` }, 'Retry parked');
            retry.addEventListener('click', () => void act(() => api('POST', '/drains/dlq/retry', { drain: d.id }), 'Parked lines queued for retry.'));
            const discard = h(
              'button',
              { type: 'button', class: 'danger', disabled: !dlq?.count, 'aria-label': `Discard parked lines of ${d.url}` },
              'Discard parked',
            );
            discard.addEventListener('click', () => void act(() => api('DELETE', '/drains/dlq', { drain: d.id }), 'Parked lines discarded.'));
            return h(
              'article',
              { class: 'drain', 'data-drain': d.id },
              h('h3', {}, d.url),
              h(
                'dl',
                { class: 'figures' },
                h('dt', {}, 'Delivered (this node)'),
                h('dd', { 'data-figure': 'delivered' }, delivered === undefined ? '–' : String(delivered)),
                h('dt', {}, 'Failed attempts (this node)'),
                h('dd', { 'data-figure': 'failed' }, failed === undefined ? '–' : String(failed)),
                h('dt', {}, 'Parked in the DLQ'),
                h('dd', { 'data-figure': 'parked' }, dlq ? String(dlq.count) : '–'),
                h('dt', {}, 'Last error'),
                h('dd', { 'data-figure': 'last-error' }, lastError ?? 'none'),
                h('dt', {}, 'Added'),
                h('dd', {}, relTime(d.created_at)),
              ),
              dlq?.items.length
                ? h(
                    'details',
                    {},
                    h('summary', {}, `Parked lines (${dlq.count})`),
                    h(
                      'ul',
                      { class: 'dlq' },
                      // The parked line is a record (LogLineRecord): shown as the stream shows it.
                      ...dlq.items.map((it) =>
                        h('li', { 'data-dlq': it.id }, h('code', {}, fromNdjson(it.line).text), ` (${it.attempts} attempts: ${it.last_error})`),
                      ),
                    ),
                  )
                : null,
              h('div', { class: 'actions' }, retry, discard, remove),
            );
          }),
        );
      }
    } catch (err) {
      list.replaceChildren(errorBox((err as Error).message));
    }
    if (!disposed) timer = window.setTimeout(() => void refresh(), 5000);
  }

  root.replaceChildren(form, formError, h('h2', { class: 'sub' }, 'Drains'), list);
  void refresh();
  return {
    dispose() {
      disposed = true;
      clearTimeout(timer);
    },
  };
}
