/** The `logway` command line (docs/cli.md): commander wiring over the HTTP API. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pc from 'picocolors';
import type { CliIo } from './io';
import { CliError } from './io';
import { ApiClient, enc, type Schemas } from './api';
import { runLogs } from './logs';
import { colorsEnabled, renderMetrics, renderStatus, table, visible, type Colors } from './render';

type Drain = Schemas['Drain'];
type DlqCount = Pick<Schemas['DlqList'], 'count'>;
type DlqChange<K extends 'retried' | 'discarded'> = Record<K, number>;

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive whole number.');
  return Number(value);
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number.');
  return Number(value);
}

/** `--from`/`--to` as typed (ISO, or anything Date understands like aka) → ISO for the API. */
function isoDate(value: string): string {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(`"${value}" is not a date.`);
  return d.toISOString();
}

/** Builds the program for one run. Actions report through `io`; `run` turns errors into exit codes. */
export function buildProgram(io: CliIo, exit: { code: number }): Command {
  const program = new Command();
  const lazy: { api?: ApiClient } = {};
  const api = () => (lazy.api ??= new ApiClient(io));
  const colors = (cmd: Command): Colors => pc.createColors(colorsEnabled(cmd.optsWithGlobals().color !== false, io.env, io.stdout.isTTY));
  const out = (s: string): void => {
    io.stdout.write(s);
  };
  const json = (v: unknown): void => out(`${JSON.stringify(v, null, 2)}\n`);

  program
    .name('logway')
    .description(
      'Logs, drains, builds and metrics of apps on an Akkeris-style platform, through a logway API.\n' +
        'Configuration: LOGWAY_API_URL (default http://127.0.0.1:5000), LOGWAY_API_KEY.',
    )
    .option('--no-color', 'no ANSI colours (also off when stdout is not a terminal, or NO_COLOR is set)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  program
    .command('logs')
    .description('show an app’s recent logs, or follow them with -t (Ctrl-C to stop)')
    .requiredOption('-a, --app <app>', 'app key (app-space)')
    .option('-t, --tail', 'keep streaming new lines', false)
    .option('-n, --num <lines>', 'number of history lines (1-250 unless the server allows more)', positiveInt)
    .option('-d, --dyno <dyno>', 'only this dyno (web.1234-abcd) or process type (web)')
    .option('-s, --source <source>', 'only this source: app, akkeris/router, router, build, event...')
    .option('--since <when>', 'only lines since 30s, 10m, 2h, or an RFC3339 time')
    .option('--filter <regex>', 'only lines whose message matches (server side)')
    .option('--json', 'one JSON object per line (NDJSON) with the parsed fields', false)
    .action(async (o, cmd: Command) => {
      exit.code = await runLogs(io, api(), {
        app: o.app,
        tail: Boolean(o.tail),
        num: o.num,
        dyno: o.dyno,
        source: o.source,
        since: o.since,
        filter: o.filter,
        json: Boolean(o.json),
        colors: colors(cmd).isColorSupported,
      });
    });

  program
    .command('drains')
    .description('list an app’s log drains')
    .requiredOption('-a, --app <app>', 'app key (app-space)')
    .option('--json', 'print the API’s JSON', false)
    .action(async (o, cmd: Command) => {
      const drains = await api().get<Drain[]>(`/apps/${enc(o.app)}/log-drains`);
      if (o.json) return json(drains);
      if (drains.length === 0) return out(`${o.app} has no log drains.\n`);
      out(
        table(
          ['ID', 'URL', 'CREATED'],
          drains.map((d) => [d.id, d.url, d.created_at]),
          colors(cmd),
        ),
      );
    });

  program
    .command('drains:add')
    .description('add a log drain (syslog://, syslog+tls://, syslog+udp://, https://...)')
    .argument('<url>', 'drain url')
    .requiredOption('-a, --app <app>', 'app key (app-space)')
    .option('--json', 'print the API’s JSON', false)
    .action(async (url: string, o) => {
      const d = await api().post<Drain>(`/apps/${enc(o.app)}/log-drains`, { url });
      if (o.json) return json(d);
      out(`Added log drain ${d.id} to ${o.app}: ${d.url}\n`);
    });

  program
    .command('drains:remove')
    .description('remove a log drain (by id, or by its url)')
    .argument('<id>', 'drain id or url')
    .requiredOption('-a, --app <app>', 'app key (app-space)')
    .option('--json', 'print the API’s JSON', false)
    .action(async (id: string, o) => {
      const d = await api().delete<Drain>(`/apps/${enc(o.app)}/log-drains/${enc(id)}`);
      if (o.json) return json(d);
      out(`Removed log drain ${d.id} from ${o.app}: ${d.url}\n`);
    });

  const dlq = program.command('dlq').description('inspect and act on the drains’ dead-letter queue');
  const selector = (cmd: Command) => cmd.option('--drain <id>', 'only lines of this drain').option('--app <app>', 'only lines of this app key');
  const selection = (ids: string[], o: { drain?: string; app?: string; all?: boolean }) => {
    const body: Record<string, unknown> = {};
    if (ids.length) body.ids = ids;
    if (o.drain) body.drain = o.drain;
    if (o.app) body.app = o.app;
    if (o.all) body.all = true;
    if (Object.keys(body).length === 0) throw new CliError('Say which lines: give ids, --drain, --app, or --all.');
    return body;
  };
  const query = (o: { drain?: string; app?: string }, limit: number) => {
    const q = new URLSearchParams();
    if (o.drain) q.set('drain', o.drain);
    if (o.app) q.set('app', o.app);
    q.set('limit', String(limit));
    return `/drains/dlq?${q}`;
  };

  selector(dlq.command('list').description('list parked lines, oldest first'))
    .option('--limit <n>', 'at most n lines (0-1000, default 100)', nonNegativeInt, 100)
    .option('--json', 'print the API’s JSON', false)
    .action(async (o, cmd: Command) => {
      const res = await api().get<Schemas['DlqList']>(query(o, o.limit));
      if (o.json) return json(res);
      if (res.items.length === 0) return out(`The dead-letter queue has no lines${o.drain || o.app ? ' matching' : ''}.\n`);
      const c = colors(cmd);
      out(
        table(
          ['ID', 'DRAIN', 'APP', 'ATTEMPTS', 'STATE', 'LAST ERROR', 'LINE'],
          res.items.map((i) => [i.id, i.drain_id, i.app, String(i.attempts), i.state, i.last_error, `${i.line.time} ${i.line.message}`.slice(0, 120)]),
          c,
        ),
      );
      out(c.dim(`${res.items.length} of ${res.count} lines\n`));
    });

  selector(dlq.command('count').description('how many lines are parked'))
    .option('--json', 'print the API’s JSON', false)
    .action(async (o) => {
      const res = await api().get<DlqCount>(query(o, 0));
      if (o.json) return json({ count: res.count });
      out(`${res.count}\n`);
    });

  selector(dlq.command('retry').description('send parked lines again (by id, drain, app, or --all)'))
    .argument('[ids...]', 'DLQ line ids')
    .option('--all', 'every parked line', false)
    .option('--json', 'print the API’s JSON', false)
    .action(async (ids: string[], o) => {
      const res = await api().post<DlqChange<'retried'>>('/drains/dlq/retry', selection(ids, o));
      if (o.json) return json(res);
      out(`Marked ${res.retried} line${res.retried === 1 ? '' : 's'} for retry.\n`);
    });

  selector(dlq.command('discard').description('drop parked lines for good (by id, drain, app, or --all)'))
    .argument('[ids...]', 'DLQ line ids')
    .option('--all', 'every parked line', false)
    .option('--json', 'print the API’s JSON', false)
    .action(async (ids: string[], o) => {
      const res = await api().delete<DlqChange<'discarded'>>('/drains/dlq', selection(ids, o));
      if (o.json) return json(res);
      out(`Discarded ${res.discarded} line${res.discarded === 1 ? '' : 's'}.\n`);
    });

  program
    .command('builds:result')
    .description('show a build’s output (Docker noise stripped) and status')
    .argument('<id>', 'build uuid')
    .requiredOption('-a, --app <app>', 'app key (app-space)')
    .option('--json', 'print the API’s JSON', false)
    .action(async (id: string, o, cmd: Command) => {
      const res = await api().get<Schemas['BuildResult']>(`/apps/${enc(o.app)}/builds/${enc(id)}/result`);
      if (o.json) return json(res);
      const c = colors(cmd);
      const s = res.build.status;
      const status = s === 'succeeded' ? c.green(s) : s === 'failed' ? c.red(s) : c.yellow(s);
      // The status goes to stderr so stdout is exactly the build's output (pipe-friendly).
      io.stderr.write(`Build ${res.build.id} ${status} (${res.lines.length} lines)\n`);
      // A build's output is the tenant's text: controls are shown, never run (cli/render visible).
      if (res.lines.length) out(`${res.lines.map(visible).join('\n')}\n`);
    });

  program
    .command('metrics')
    .description('chart an app’s metrics per process type (cpu, memory, network, fs)')
    .requiredOption('-a, --app <app>', 'app key (app-space)')
    .option('-r, --resolution <res>', 'bucket size: 1m 5m 10m 15m 20m 30m 1h 6h 12h 1d (server default 30m)')
    .option('-f, --from <date>', 'start (ISO date or anything Date parses; server default: a week before --to)', isoDate)
    .option('-t, --to <date>', 'end (default now)', isoDate)
    .addOption(new Option('--stat <stat>', 'mean across instances or 90th percentile').choices(['mean', 'p90']))
    .option('--json', 'print the API’s JSON', false)
    .action(async (o, cmd: Command) => {
      const q = new URLSearchParams();
      if (o.resolution) q.set('resolution', o.resolution);
      if (o.from) q.set('from', o.from);
      if (o.to) q.set('to', o.to);
      if (o.stat) q.set('stat', o.stat);
      const qs = q.toString();
      const data = await api().get<Schemas['MetricsSeries']>(`/apps/${enc(o.app)}/metrics${qs ? `?${qs}` : ''}`);
      if (o.json) return json(data);
      out(renderMetrics(data, io.stdout.columns ?? 80, colors(cmd)));
    });

  program
    .command('status')
    .description('health of a logway and its dependencies (Kafka, InfluxDB, PostgreSQL, migrations)')
    .option('--json', 'print the API’s JSON', false)
    .action(async (o, cmd: Command) => {
      const res = await api().raw<Partial<Schemas['Readiness']>>('GET', '/health/ready');
      if (typeof res.body !== 'object' || res.body === null) throw new CliError(`Unexpected answer from ${api().baseUrl}/health/ready (HTTP ${res.status}).`);
      if (o.json) json(res.body);
      else out(renderStatus(api().baseUrl, res.body, colors(cmd)));
      exit.code = res.status === 200 ? 0 : 1;
    });

  return program;
}

/** Runs one command line (argv without node and script); resolves to the exit code. Never throws. */
export async function run(args: string[], io: CliIo): Promise<number> {
  const exit = { code: 0 };
  const program = buildProgram(io, exit);
  try {
    await program.parseAsync(args, { from: 'user' });
    return exit.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors have been printed by commander.
      return e.exitCode;
    }
    const message = e instanceof CliError ? e.message : `unexpected error: ${(e as Error)?.stack ?? String(e)}`;
    const c = pc.createColors(colorsEnabled(!args.includes('--no-color'), io.env, io.stderr.isTTY));
    io.stderr.write(`${c.red('logway:')} ${message}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}
