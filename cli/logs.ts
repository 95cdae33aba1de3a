/**
 * `logway logs`: creates a log session through the API (as `aka logs` and `heroku logs` do), then
 * reads its logplex_url and prints lines as they arrive. Ctrl-C ends a tail cleanly (exit 0).
 */
import type { CliIo } from './io';
import { CliError } from './io';
import { ApiClient, enc, serverMessage, unreachable, type Schemas } from './api';
import { colorLogLine, visibleJson } from './render';

export interface LogsOptions {
  app: string;
  tail: boolean;
  num?: number;
  dyno?: string;
  source?: string;
  since?: string;
  filter?: string;
  json: boolean;
  colors: boolean;
}

type LogSession = Schemas['LogSession'];

/** The log-session body (docs/design.md §3): only the filters given, so the server's defaults apply otherwise. */
export function sessionBody(o: LogsOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { lines: o.num ?? 100, tail: o.tail };
  if (o.dyno) body.dyno = o.dyno;
  if (o.source) body.source = o.source;
  if (o.since) body.since = o.since;
  if (o.filter) body.filter = o.filter;
  return body;
}

/** Splits a byte stream into lines across chunk boundaries. */
export class LineSplitter {
  private rest = '';
  push(text: string): string[] {
    const parts = (this.rest + text).split('\n');
    this.rest = parts.pop() ?? '';
    return parts;
  }
  flush(): string[] {
    const r = this.rest;
    this.rest = '';
    return r === '' ? [] : [r];
  }
}

export async function runLogs(io: CliIo, api: ApiClient, o: LogsOptions): Promise<number> {
  const session = await api.post<LogSession>(`/apps/${enc(o.app)}/log-sessions`, sessionBody(o));
  if (!session || typeof session.logplex_url !== 'string') throw new CliError('The server did not return a log session URL.');
  const url = new URL(session.logplex_url);
  if (o.json) url.searchParams.set('format', 'json');

  const ac = new AbortController();
  let interrupted = false;
  const stopListening = io.onInterrupt(() => {
    interrupted = true;
    ac.abort();
  });
  const splitter = new LineSplitter();
  const print = (lines: string[]) => {
    if (lines.length === 0) return;
    // colorLogLine and visibleJson show any control character the server sent as text.
    const shown = lines.map((l) => l.replace(/\r$/, '')).map((l) => (o.json ? visibleJson(l) : colorLogLine(l, o.colors)));
    io.stdout.write(shown.join('\n') + '\n');
  };
  try {
    let res: Response;
    try {
      res = await io.fetch(url, { headers: { Accept: o.json ? 'application/x-ndjson' : 'text/plain' }, signal: ac.signal });
    } catch (e) {
      if (interrupted) return 0;
      throw unreachable(url.origin, e);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* keep text */
      }
      throw new CliError(serverMessage(res.status, body));
    }
    if (!res.body) return 0;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        print(splitter.push(decoder.decode(chunk, { stream: true })));
      }
      print(splitter.push(decoder.decode()));
    } catch (e) {
      if (!interrupted) throw new CliError(`The log stream ended unexpectedly: ${(e as Error).message}`);
    }
    print(splitter.flush());
    return 0;
  } finally {
    stopListening();
  }
}
