/** The logway web console: hash routes over the public API (#/apps, #/apps/:app/logs|metrics|drains, #/health). */
import './style.css';
import { api, apiKey, ApiError, whenUnauthorized, type Schemas } from './api';
import { errorBox, field, h, relTime } from './dom';
import { logsPage, LogsHandle } from './logs/page';
import { metricsPage, MetricsHandle } from './metrics/page';
import { drainsPage } from './drains';
import { healthPage } from './health';

/** With UPSTREAM_URL set, /apps is the Akkeris controller's: only `name` is sure to be there. */
type AppRow = Pick<Schemas['AppSeen'], 'name'> & Partial<Schemas['AppSeen']>;

const main = document.getElementById('main') as HTMLElement;
const signout = document.getElementById('signout') as HTMLButtonElement;
let current: { dispose(): void } | undefined;

/** For tests and the benchmark: the live view's store and the charts' data (nothing secret). */
const hooks: { logs?: LogsHandle; metrics?: MetricsHandle } = {};
(window as unknown as { logwayConsole: unknown }).logwayConsole = {
  lines: () => (hooks.logs ? [...hooks.logs.store.range()].map((l) => l.text) : []),
  shown: () => (hooks.logs ? hooks.logs.view.shownLines().map((l) => l.text) : []),
  paused: () => hooks.logs?.view.isPaused ?? false,
  sessions: () => hooks.logs?.tail()?.sessions ?? 0,
  charts: () =>
    hooks.metrics
      ? [...hooks.metrics.charts.entries()].map(([metric, c]) => ({
          metric,
          series: c.series.slice(1).map((s) => s.label),
          points: c.data[0].length,
          data: c.data,
        }))
      : [],
};

function keyForm(message?: string): void {
  current?.dispose();
  current = undefined;
  signout.hidden = true;
  const input = h('input', { type: 'password', name: 'apikey', autocomplete: 'off', required: true });
  const form = h(
    'form',
    { class: 'key', 'aria-labelledby': 'key-title' },
    h('h2', { id: 'key-title' }, 'Sign in'),
    h('p', {}, 'The console uses the logway API with your API key. It is kept in this tab only (sessionStorage) and sent as the Authorization header.'),
    message ? errorBox(message) : null,
    field('API key', input),
    h('button', { type: 'submit', class: 'primary' }, 'Continue'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    apiKey.set(input.value.trim());
    void route();
  });
  main.replaceChildren(form);
  input.focus();
}

whenUnauthorized(() => {
  apiKey.clear();
  keyForm('That API key was refused (401). Enter a valid key.');
});
signout.addEventListener('click', () => {
  apiKey.clear();
  keyForm();
});

function setNav(which: string): void {
  for (const a of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    if (a.dataset.nav === which) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function appsPage(): { dispose(): void } {
  setNav('apps');
  document.title = 'Apps · logway';
  const search = h('input', { type: 'search', name: 'q', autocomplete: 'off', placeholder: 'app-space' });
  const list = h('ul', { class: 'apps', 'data-testid': 'apps' });
  const err = h('div', {});
  let apps: AppRow[] = [];
  let timer = 0;
  let disposed = false;
  const render = () => {
    const q = search.value.trim().toLowerCase();
    const shown = apps.filter((a) => a.name.toLowerCase().includes(q));
    list.replaceChildren(
      ...shown.map((a) =>
        h(
          'li',
          {},
          h('a', { href: `#/apps/${encodeURIComponent(a.name)}/logs` }, a.name),
          a.last_seen_at
            ? h('span', { class: 'seen' }, ' last seen ', h('time', { dateTime: a.last_seen_at, title: a.last_seen_at }, relTime(a.last_seen_at)))
            : null,
        ),
      ),
    );
    if (!shown.length) list.append(h('li', { class: 'empty' }, apps.length ? 'No app matches.' : 'logway has not seen any app yet.'));
  };
  const load = async () => {
    try {
      apps = await api<AppRow[]>('GET', '/apps?limit=1000');
      if (disposed) return;
      err.replaceChildren();
      render();
    } catch (e) {
      if ((e as ApiError).status !== 401) err.replaceChildren(errorBox((e as Error).message));
    }
    if (!disposed) timer = window.setTimeout(() => void load(), 15_000);
  };
  search.addEventListener('input', render);
  const site = h('input', { type: 'text', name: 'site', autocomplete: 'off', placeholder: 'www.example.com' });
  const siteForm = h(
    'form',
    { class: 'filters', 'aria-label': 'Open a site' },
    field('Site (router logs)', site),
    h('button', { type: 'submit' }, 'Open site'),
  );
  siteForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (site.value.trim()) location.hash = `#/sites/${encodeURIComponent(site.value.trim())}/logs`;
  });
  main.replaceChildren(h('h2', {}, 'Apps'), field('Search apps', search), err, list, siteForm);
  void load();
  return {
    dispose() {
      disposed = true;
      clearTimeout(timer);
    },
  };
}

function appPage(kind: 'apps' | 'sites', key: string, tab: string): { dispose(): void } {
  setNav('apps');
  const tabs = kind === 'apps' ? ['logs', 'metrics', 'drains'] : ['logs', 'drains'];
  if (!tabs.includes(tab)) tab = 'logs';
  document.title = `${key} ${tab} · logway`;
  const body = h('div', { class: 'tabbody' });
  main.replaceChildren(
    h('h2', {}, key),
    h(
      'nav',
      { 'aria-label': `${key} views` },
      h(
        'ul',
        { class: 'tabs sub' },
        ...tabs.map((t) =>
          h(
            'li',
            {},
            h(
              'a',
              { href: `#/${kind}/${encodeURIComponent(key)}/${t}`, 'aria-current': t === tab ? 'page' : undefined, 'data-tab': t },
              t[0].toUpperCase() + t.slice(1),
            ),
          ),
        ),
      ),
    ),
    body,
  );
  if (tab === 'logs') {
    const handle = logsPage(body, kind, key);
    hooks.logs = handle;
    return { dispose: () => (handle.dispose(), (hooks.logs = undefined)) };
  }
  if (tab === 'metrics') {
    const handle = metricsPage(body, key);
    hooks.metrics = handle;
    return { dispose: () => (handle.dispose(), (hooks.metrics = undefined)) };
  }
  return drainsPage(body, kind, key);
}

async function route(): Promise<void> {
  if (!apiKey.get()) return keyForm();
  signout.hidden = false;
  current?.dispose();
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'health') {
    setNav('health');
    document.title = 'Health · logway';
    current = healthPage(main);
  } else if ((parts[0] === 'apps' || parts[0] === 'sites') && parts[1]) current = appPage(parts[0], parts[1], parts[2] ?? 'logs');
  else current = appsPage();
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', () => void route());
void route();
