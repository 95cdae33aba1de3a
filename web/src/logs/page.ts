/** The live log view of an app or site: filters, pause/follow, highlight, time range, download. */
import { sameOrigin } from '../api';
import { announce, errorBox, field, h } from '../dom';
import { fromNdjson, Line, NdjsonRecord } from './line';
import { LineStore } from './store';
import { LiveTail, createSession, SessionFilters } from './live';
import { LogView } from './view';

/** Lines held in memory (≥ 50,000 as the issue asks; bounded: the oldest go first). */
export const HOLD_LINES = 100_000;

export interface LogsHandle {
  store: LineStore;
  view: LogView;
  tail(): LiveTail | undefined;
  dispose(): void;
}

const isoLocal = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

export function logsPage(root: HTMLElement, kind: 'apps' | 'sites', key: string): LogsHandle {
  const store = new LineStore(HOLD_LINES);
  const view = new LogView(store, `Log lines of ${key}`);
  let tail: LiveTail | undefined;

  const dyno = h('input', { type: 'text', name: 'dyno', placeholder: 'web or web.1', autocomplete: 'off' });
  const source = h('input', { type: 'text', name: 'source', placeholder: 'app, akkeris/router', autocomplete: 'off' });
  const since = h('input', { type: 'text', name: 'since', placeholder: '10m, 2h or RFC3339', autocomplete: 'off' });
  const regex = h('input', { type: 'text', name: 'filter', placeholder: 'regular expression', autocomplete: 'off', spellcheck: false });
  const highlight = h('input', { type: 'search', name: 'highlight', placeholder: 'text to mark', autocomplete: 'off' });
  const from = h('input', { type: 'datetime-local', name: 'from' });
  const to = h('input', { type: 'datetime-local', name: 'to' });
  const status = h('p', { class: 'status', 'data-testid': 'log-status' }, '');
  const errors = h('div', {});
  const pause = h('button', { type: 'button', class: 'primary', 'aria-pressed': 'false', 'data-testid': 'pause' }, 'Pause');
  const download = h('button', { type: 'button' }, 'Download shown lines');
  const count = h('span', { class: 'count', 'data-testid': 'log-count' }, '0 lines');

  const filters = (): SessionFilters => ({ dyno: dyno.value.trim(), source: source.value.trim(), since: since.value.trim(), filter: regex.value });

  let countTimer = 0;
  const updateCount = () => {
    countTimer = 0;
    const pending = view.pending();
    count.textContent = `${store.size.toLocaleString('en')} lines${pending ? `, ${pending.toLocaleString('en')} new while paused` : ''}`;
  };
  const push = (l: Line) => {
    store.push(l);
    view.schedule();
    countTimer ||= window.setTimeout(updateCount, 250);
  };

  view.onPauseChange = (p, pending) => {
    pause.textContent = p ? `Resume${pending ? ` (${pending.toLocaleString('en')} new)` : ''}` : 'Pause';
    pause.setAttribute('aria-pressed', String(p));
  };
  pause.addEventListener('click', () => {
    view.setPaused(!view.isPaused);
    announce(view.isPaused ? 'Paused: lines keep arriving and are shown on resume.' : 'Following new lines.');
    updateCount();
  });
  highlight.addEventListener('input', () => view.setHighlight(highlight.value));
  download.addEventListener('click', () => {
    const text =
      view
        .shownLines()
        .map((l) => l.text)
        .join('\n') + '\n';
    const a = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/plain' })), download: `${key}-logs.txt` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });

  function restart(): void {
    tail?.stop();
    store.clear();
    view.setPaused(false);
    view.schedule();
    errors.replaceChildren();
    tail = new LiveTail(
      kind,
      key,
      filters(),
      push,
      (state, detail) => {
        status.textContent = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', error: 'Error' }[state] + (detail ? ` (${detail})` : '');
        status.dataset.state = state;
      },
      () => store.range(Math.max(store.first, store.next - 5000)),
    );
    tail.start().catch((e: Error) => {
      status.textContent = 'Not connected';
      errors.replaceChildren(errorBox(e.message));
    });
  }

  /** A from/to window read from history (no tail): NDJSON, cut at `to`. */
  async function range(): Promise<void> {
    tail?.stop();
    tail = undefined;
    store.clear();
    view.setPaused(false);
    errors.replaceChildren();
    if (!from.value) {
      errors.replaceChildren(errorBox('Give a "from" time for the range.'));
      return;
    }
    const start = new Date(from.value);
    const end = to.value ? new Date(to.value) : new Date();
    status.textContent = 'Reading history…';
    status.dataset.state = 'range';
    try {
      const s = await createSession(kind, key, { ...filters(), since: start.toISOString(), tail: false });
      const res = await fetch(`${sameOrigin(s.logplex_url)}?format=json`, { headers: { Accept: 'application/x-ndjson' } });
      const body = await res.text();
      if (!res.ok) throw new Error(body);
      let n = 0;
      for (const text of body.split('\n')) {
        if (!text) continue;
        const l = fromNdjson(JSON.parse(text) as NdjsonRecord);
        if (l.time <= end.getTime()) {
          push(l);
          n++;
        }
      }
      status.textContent = `History ${start.toISOString()} – ${end.toISOString()}: ${n} lines (a session returns at most its "lines" maximum: narrow with filters).`;
      announce(`${n} lines in the range.`);
    } catch (e) {
      status.textContent = 'Range failed';
      errors.replaceChildren(errorBox((e as Error).message));
    }
    updateCount();
  }

  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Log filters (server side)' },
    field('Dyno or process type', dyno),
    field('Source', source),
    field('Since', since),
    field('Regex filter', regex),
    h('button', { type: 'submit', class: 'primary' }, 'Apply & tail'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    restart();
  });
  const rangeForm = h(
    'form',
    { class: 'filters', 'aria-label': 'Time range (history)' },
    field('From', from),
    field('To', to),
    h('button', { type: 'submit' }, 'Show range'),
  );
  rangeForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void range();
  });
  const now = new Date();
  from.value = isoLocal(new Date(now.getTime() - 3600_000));

  root.replaceChildren(form, rangeForm, h('div', { class: 'toolbar' }, pause, field('Highlight', highlight), download, count, status), errors, view.el);
  restart();
  return {
    store,
    view,
    tail: () => tail,
    dispose() {
      tail?.stop();
      clearTimeout(countTimer);
    },
  };
}
