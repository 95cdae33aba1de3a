import { run } from '../../cli/program';
import type { CliIo } from '../../cli/io';
import { sessionBody, LineSplitter } from '../../cli/logs';
import { colorLogLine, colorsEnabled } from '../../cli/render';
import { sparkline, resample, bar } from '../../cli/chart';
import { until } from '../helpers/wait';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

type Handler = (call: Call) => { status: number; body?: unknown; text?: string; chunks?: string[] };

function fakeIo(handler: Handler, env: Record<string, string> = {}) {
  const calls: Call[] = [];
  let stdout = '';
  let stderr = '';
  const interrupts: (() => void)[] = [];
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s), isTTY: false, columns: 80 },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: { LOGWAY_API_URL: 'http://logway.test', LOGWAY_API_KEY: 'k1', ...env },
    fetch: (async (input: string | URL, init?: RequestInit) => {
      const call: Call = {
        method: init?.method ?? 'GET',
        url: String(input),
        headers: (init?.headers ?? {}) as Record<string, string>,
        body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      };
      calls.push(call);
      const r = handler(call);
      if (r.chunks) {
        const enc = new TextEncoder();
        const stream = new ReadableStream<Uint8Array>({
          start(c) {
            for (const ch of r.chunks!) c.enqueue(enc.encode(ch));
            c.close();
          },
        });
        return new Response(stream, { status: r.status });
      }
      return new Response(r.text ?? (r.body === undefined ? '' : JSON.stringify(r.body)), { status: r.status });
    }) as typeof fetch,
    onInterrupt: (cb) => {
      interrupts.push(cb);
      return () => undefined;
    },
  };
  return { io, calls, out: () => stdout, err: () => stderr, interrupts };
}

describe('logway CLI (against a fake API)', () => {
  it('logs: creates a session with the filters, then prints the stream line by line', async () => {
    const f = fakeIo((c) =>
      c.url.endsWith('/log-sessions')
        ? { status: 201, body: { id: 's', logplex_url: 'http://logway.test/log-sessions/tok' } }
        : { status: 200, chunks: ['2026-01-01T00:00:00.000Z api-space app[web.1]: one\n2026-01-01T00:00:01.000Z api', '-space app[web.1]: two\n'] },
    );
    const code = await run(['logs', '-a', 'api-space', '-n', '5', '-d', 'web', '-s', 'app', '--since', '10m', '--filter', 'o'], f.io);
    expect(code).toBe(0);
    expect(f.calls[0]).toMatchObject({
      method: 'POST',
      url: 'http://logway.test/apps/api-space/log-sessions',
      body: { lines: 5, tail: false, dyno: 'web', source: 'app', since: '10m', filter: 'o' },
    });
    expect(f.calls[0].headers.Authorization).toBe('k1');
    expect(f.calls[1].url).toBe('http://logway.test/log-sessions/tok');
    expect(f.out()).toBe('2026-01-01T00:00:00.000Z api-space app[web.1]: one\n2026-01-01T00:00:01.000Z api-space app[web.1]: two\n');
  });

  it('logs --json asks for NDJSON', async () => {
    const f = fakeIo((c) =>
      c.url.endsWith('/log-sessions')
        ? { status: 201, body: { id: 's', logplex_url: 'http://logway.test/log-sessions/tok' } }
        : { status: 200, chunks: ['{"message":"x"}\n'] },
    );
    expect(await run(['logs', '-a', 'api-space', '--json', '-t'], f.io)).toBe(0);
    expect(f.calls[0].body).toEqual({ lines: 100, tail: true });
    expect(f.calls[1].url).toBe('http://logway.test/log-sessions/tok?format=json');
    expect(f.out()).toBe('{"message":"x"}\n');
  });

  it('logs -t: Ctrl-C ends the tail cleanly with exit 0 after printing what arrived', async () => {
    const f = fakeIo(() => ({ status: 201, body: { id: 's', logplex_url: 'http://logway.test/log-sessions/tok' } }));
    const enc = new TextEncoder();
    f.io.fetch = (async (input: string | URL, init?: RequestInit) => {
      if (String(input).endsWith('/log-sessions'))
        return new Response(JSON.stringify({ id: 's', logplex_url: 'http://logway.test/log-sessions/tok' }), { status: 201 });
      // A tail that never ends on its own: only the abort signal stops it.
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc.encode('2026-01-01T00:00:00.000Z api-space app[web.1]: live\n'));
          init?.signal?.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')));
        },
      });
      return new Response(stream, { status: 200 });
    }) as typeof fetch;
    const done = run(['logs', '-a', 'api-space', '-t'], f.io);
    await until(() => f.out() !== '', 'the live line');
    expect(f.out()).toBe('2026-01-01T00:00:00.000Z api-space app[web.1]: live\n');
    expect(f.interrupts).toHaveLength(1);
    f.interrupts[0]();
    expect(await done).toBe(0);
    expect(f.err()).toBe('');
  });

  it('prints the server’s error message and exits 1', async () => {
    const f = fakeIo(() => ({ status: 404, body: { id: 'not_found', message: 'The specified application nope-space does not exist.' } }));
    expect(await run(['drains', '-a', 'nope-space'], f.io)).toBe(1);
    expect(f.err()).toBe('logway: The specified application nope-space does not exist.\n');
    expect(f.out()).toBe('');
  });

  it('reports an unreachable server with the URL', async () => {
    const f = fakeIo(() => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    });
    expect(await run(['status'], f.io)).toBe(1);
    expect(f.err()).toContain('Cannot reach logway at http://logway.test (ECONNREFUSED)');
  });

  it('drains:add, drains, drains:remove', async () => {
    const drain = { id: 'd1', url: 'syslog://h:514', token: 'api-space', created_at: '2026-01-01T00:00:00.000Z' };
    const f = fakeIo((c) => (c.method === 'GET' ? { status: 200, body: [drain] } : { status: c.method === 'POST' ? 201 : 200, body: drain }));
    expect(await run(['drains:add', 'syslog://h:514', '-a', 'api-space'], f.io)).toBe(0);
    expect(await run(['drains', '-a', 'api-space'], f.io)).toBe(0);
    expect(await run(['drains:remove', 'd1', '-a', 'api-space'], f.io)).toBe(0);
    expect(f.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'POST http://logway.test/apps/api-space/log-drains',
      'GET http://logway.test/apps/api-space/log-drains',
      'DELETE http://logway.test/apps/api-space/log-drains/d1',
    ]);
    expect(f.calls[0].body).toEqual({ url: 'syslog://h:514' });
    expect(f.out()).toBe(
      'Added log drain d1 to api-space: syslog://h:514\n' +
        'ID  URL             CREATED\nd1  syslog://h:514  2026-01-01T00:00:00.000Z\n' +
        'Removed log drain d1 from api-space: syslog://h:514\n',
    );
  });

  it('dlq list|count|retry|discard call the DLQ API with the selectors', async () => {
    const f = fakeIo((c) => {
      if (c.method === 'GET') return { status: 200, body: { count: 3, items: [] } };
      if (c.method === 'POST') return { status: 202, body: { retried: 2 } };
      return { status: 200, body: { discarded: 1 } };
    });
    const d = '0d6b1c52-4c0e-4f0e-9d2b-3b1d5d1f8b7a';
    expect(await run(['dlq', 'count', '--drain', d], f.io)).toBe(0);
    expect(await run(['dlq', 'list', '--app', 'api-space', '--limit', '5'], f.io)).toBe(0);
    expect(await run(['dlq', 'retry', '17', '18'], f.io)).toBe(0);
    expect(await run(['dlq', 'discard', '--drain', d], f.io)).toBe(0);
    expect(await run(['dlq', 'discard'], f.io)).toBe(1);
    expect(f.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      `GET http://logway.test/drains/dlq?drain=${d}&limit=0`,
      'GET http://logway.test/drains/dlq?app=api-space&limit=5',
      'POST http://logway.test/drains/dlq/retry',
      'DELETE http://logway.test/drains/dlq',
    ]);
    expect(f.calls[2].body).toEqual({ ids: ['17', '18'] });
    expect(f.calls[3].body).toEqual({ drain: d });
    expect(f.out()).toBe('3\nThe dead-letter queue has no lines matching.\nMarked 2 lines for retry.\nDiscarded 1 line.\n');
    expect(f.err()).toContain('Say which lines');
  });

  it('builds:result prints the lines on stdout and the status on stderr', async () => {
    const f = fakeIo(() => ({ status: 200, body: { build: { id: 'b1', status: 'failed', output_stream_url: 'u' }, lines: ['a', 'b'] } }));
    expect(await run(['builds:result', 'b1', '-a', 'api-space'], f.io)).toBe(0);
    expect(f.out()).toBe('a\nb\n');
    expect(f.err()).toBe('Build b1 failed (2 lines)\n');
  });

  it('metrics passes resolution and dates, and draws a chart per metric', async () => {
    const f = fakeIo(() => ({
      status: 200,
      body: { web: { memory_usage_bytes: { '100': 1048576, '200': 2097152, '300': 4194304 } } },
    }));
    expect(await run(['metrics', '-a', 'api-space', '-r', '10m', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z'], f.io)).toBe(0);
    expect(f.calls[0].url).toBe('http://logway.test/apps/api-space/metrics?resolution=10m&from=2026-01-01T00%3A00%3A00.000Z&to=2026-01-02T00%3A00%3A00.000Z');
    const out = f.out();
    expect(out).toContain('=== web');
    expect(out).toContain('memory_usage_bytes (MB) 3 samples');
    expect(out).toContain('▁▃█');
    expect(out).toMatch(/max\s+4\.000 MB/);
  });

  it('status exits 1 and lists dependencies when not ready', async () => {
    const f = fakeIo(() => ({
      status: 503,
      body: {
        state: 'DOWN',
        message: 'Not ready: kafka down.',
        dependencies: { kafka: { state: 'DOWN', error: 'ECONNREFUSED' }, postgresql: { state: 'UP' } },
      },
    }));
    expect(await run(['status'], f.io)).toBe(1);
    expect(f.out()).toBe('logway http://logway.test: DOWN\n  kafka       DOWN  ECONNREFUSED\n  postgresql  UP\nNot ready: kafka down.\n');
  });

  it('usage errors exit non-zero without calling the API', async () => {
    const f = fakeIo(() => ({ status: 200, body: {} }));
    expect(await run(['logs'], f.io)).not.toBe(0);
    expect(await run(['logs', '-a', 'x-y', '-n', 'zero'], f.io)).not.toBe(0);
    expect(f.calls).toHaveLength(0);
    expect(f.err()).toContain("required option '-a, --app <app>' not specified");
  });

  it('rejects a LOGWAY_API_URL that is not http(s)', async () => {
    const f = fakeIo(() => ({ status: 200, body: {} }), { LOGWAY_API_URL: 'ftp://x' });
    expect(await run(['status'], f.io)).toBe(1);
    expect(f.err()).toContain('LOGWAY_API_URL must be an http(s) URL');
  });
});

describe('CLI helpers', () => {
  it('colours like aka only when enabled', () => {
    const line = '2026-01-01T00:00:00.000Z api-space app[web.1]: hello';
    expect(colorLogLine(line, false)).toBe(line);
    expect(colorLogLine(line, true)).toBe('\u001b[36m2026-01-01T00:00:00.000Z\u001b[0m api-space \u001b[38;5;104mapp[web.1]:\u001b[0m hello');
    expect(colorLogLine('not a log line', true)).toBe('not a log line');
  });

  it('decides colours from the flag, NO_COLOR, FORCE_COLOR and the TTY', () => {
    expect(colorsEnabled(true, {}, true)).toBe(true);
    expect(colorsEnabled(true, {}, false)).toBe(false);
    expect(colorsEnabled(false, { FORCE_COLOR: '1' }, true)).toBe(false);
    expect(colorsEnabled(true, { NO_COLOR: '1' }, true)).toBe(false);
    expect(colorsEnabled(true, { FORCE_COLOR: '1' }, false)).toBe(true);
  });

  it('session body carries only the given filters', () => {
    expect(sessionBody({ app: 'a-b', tail: false, json: false, colors: false })).toEqual({ lines: 100, tail: false });
  });

  it('splits lines across chunks', () => {
    const s = new LineSplitter();
    expect(s.push('a\nb')).toEqual(['a']);
    expect(s.push('c\n\nd')).toEqual(['bc', '']);
    expect(s.flush()).toEqual(['d']);
  });

  it('draws sparklines and bars', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([5, 5])).toBe('▄▄');
    expect(sparkline([])).toBe('');
    expect(resample([1, 3, 5, 7], 2)).toEqual([2, 6]);
    expect(
      sparkline(
        Array.from({ length: 1000 }, (_, i) => i),
        20,
      ),
    ).toHaveLength(20);
    expect(bar(5, 10, 4)).toBe('██');
    expect(bar(0, 10, 4)).toBe('');
  });
});
