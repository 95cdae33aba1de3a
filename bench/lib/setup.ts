/**
 * What every bench and sample producer shares: `--help` (usage, knobs, what it prints) answered
 * before anything else runs, and the stack prepared as a fresh one needs it (PostgreSQL migrated,
 * the InfluxDB database created, Kafka topics created), so none depends on `npm test` having run first.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createDb } from '../../lib/db';
import { createInflux } from '../../lib/influx';
import { migrate } from '../../lib/migrate';
import { createKafka } from '../../lib/kafka';
import { createLogger } from '../../lib/logger';

type Options = NonNullable<ParseArgsConfig['options']>;
type Option = Options[string] & { help: string };

export interface ScriptHelp {
  /** The command line(s), e.g. `npx tsx bench/log-hotpath.ts`. */
  usage: string;
  /** What it measures or does, in a sentence or two. */
  about: string;
  /** Its own options (besides --help), each with its help text. */
  options?: Record<string, Option>;
  /** Environment knobs: name → meaning and default. */
  env?: Record<string, string>;
  /** What it prints. */
  prints: string;
  /** What it prepares on the stack and what else it needs. */
  needs?: string;
}

function helpText(h: ScriptHelp): string {
  const out = [`usage: ${h.usage}`, '', h.about];
  const options = Object.entries(h.options ?? {}).map(([name, o]) => {
    const flag = `--${name}${o.short ? `, -${o.short}` : ''}${o.type === 'string' ? ' <value>' : ''}`;
    return `  ${flag.padEnd(28)} ${o.help}${o.default !== undefined ? ` (default ${String(o.default)})` : ''}`;
  });
  out.push('', 'options:', ...options, `  ${'--help, -h'.padEnd(28)} this text, and nothing else`);
  const env = Object.entries(h.env ?? {});
  if (env.length) out.push('', 'environment:', ...env.map(([k, v]) => `  ${k.padEnd(28)} ${v}`));
  out.push('', `prints: ${h.prints}`);
  if (h.needs) out.push('', `needs: ${h.needs}`);
  return `${out.join('\n')}\n`;
}

/**
 * The script's arguments (node's util.parseArgs, strict). `--help`/`-h` prints the help and exits 0;
 * an unknown option or a missing value prints the error and the usage and exits 2.
 */
export function scriptArgs(help: ScriptHelp, argv = process.argv.slice(2)): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options: Options = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(help.options ?? {})) {
    const { help: _help, ...parseOption } = o;
    options[name] = parseOption;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${helpText(help)}`);
    process.exit(2);
  }
  if (parsed.values.help) {
    process.stdout.write(helpText(help));
    process.exit(0);
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
}

export interface StackNeeds {
  /** PostgreSQL to bring to the latest migration (migrations/), the database created first if missing. */
  databaseUrl?: string;
  /** InfluxDB databases to create (CREATE DATABASE is a no-op for one that exists). */
  influx?: { url: string; token?: string; databases: string[] };
  /** Kafka topics to create if missing (the brokers auto-create too, but with their default partitions and only once written to). */
  kafka?: { brokers: string[]; topics: { topic: string; partitions?: number }[] };
}

/** Prepares what a fresh stack lacks; safe to run again and beside the server (migrations take an advisory lock). */
export async function prepareStack(needs: StackNeeds): Promise<void> {
  if (needs.databaseUrl) {
    await ensureDatabase(needs.databaseUrl);
    const db = createDb(needs.databaseUrl, { max: 1 });
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
  }
  if (needs.influx) {
    const { url, token, databases } = needs.influx;
    const influx = createInflux({ url, token, db: databases[0] ?? '', timeoutMs: 10_000 });
    try {
      for (const name of databases) await influx.query(`CREATE DATABASE "${name.replace(/["\\]/g, '\\$&')}"`);
    } finally {
      influx.close();
    }
  }
  if (needs.kafka?.topics.length) {
    const kafka = createKafka({ brokers: needs.kafka.brokers, clientId: 'logway-bench-setup', logger: createLogger('silent') });
    try {
      const existing = new Set(await kafka.listTopics());
      for (const t of needs.kafka.topics.filter((t) => !existing.has(t.topic))) await kafka.createTopic(t.topic, t.partitions ?? 3);
    } finally {
      await kafka.close();
    }
  }
}

/** Creates the database the URL names when PostgreSQL answers that it does not exist (scripts/stack creates logway and logway_test only). */
async function ensureDatabase(databaseUrl: string): Promise<void> {
  const probe = createDb(databaseUrl, { max: 1 });
  try {
    await probe.query('SELECT 1');
    return;
  } catch (e) {
    if ((e as { code?: string }).code !== '3D000') throw e;
  } finally {
    await probe.close();
  }
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = createDb(url.toString(), { max: 1 });
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await admin.close();
  }
}
