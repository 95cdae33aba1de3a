/** A sample metrics writer for newcomers and benchmarks: realistic container metrics for an app, written to
 * InfluxDB through lib/influx in the schema the metrics API reads (docs/design.md §3: one measurement per metric,
 * tags app/process_type/instance, field value).
 *
 *   sample-metrics [appKey] [--duration 1d] [--interval 10s] [--instances 3] [--live] [--db NAME] [--no-register]
 *
 * Every value is a pure function of (instance, time): counters are closed-form integrals of a positive,
 * wandering rate (so they only grow, and a restart or a second run rewrites the same points), gauges are
 * sums of slow waves around a per-instance level. `--live` keeps writing one sample per interval. */
import { Command } from 'commander';
import { loadConfig } from '../lib/config';
import { createInflux, formatFieldValue, Influx, InfluxPoint, toLineProtocol } from '../lib/influx';
import { createDb } from '../lib/db';
import { AppRegistry } from '../lib/apps';
import { prepareStack } from '../bench/lib/setup';

const DAY = 86400;
/** Counters count from here (a container start long ago), so values are the same whoever writes them. */
const ORIGIN = Date.UTC(2024, 0, 1) / 1000;

/** A stable number in [0, 1) from a string (FNV-1a). */
function unit(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}

interface Wave {
  amp: number;
  period: number;
  phase: number;
}

/** level + Σ amp·sin(2π(t/period) + phase), and its integral from ORIGIN (closed form). */
class Signal {
  constructor(
    private level: number,
    private waves: Wave[],
  ) {}
  at(t: number): number {
    return this.waves.reduce((v, w) => v + w.amp * Math.sin((2 * Math.PI * t) / w.period + w.phase), this.level);
  }
  integral(t: number): number {
    const F = (x: number) =>
      this.waves.reduce((v, w) => v - ((w.amp * w.period) / (2 * Math.PI)) * Math.cos((2 * Math.PI * x) / w.period + w.phase), this.level * x);
    return F(t) - F(ORIGIN);
  }
}

/** A signal around `level` whose waves never take it below 20 % of it (so rates stay positive). */
function wander(seed: string, level: number): Signal {
  const r = (k: string) => unit(`${seed}:${k}`);
  return new Signal(level, [
    { amp: level * (0.25 + 0.2 * r('a1')), period: DAY, phase: 2 * Math.PI * r('p1') },
    { amp: level * (0.15 + 0.1 * r('a2')), period: 3600 * (1 + 3 * r('t2')), phase: 2 * Math.PI * r('p2') },
    { amp: level * 0.1 * r('a3'), period: 300 + 900 * r('t3'), phase: 2 * Math.PI * r('p3') },
  ]);
}

export interface Instance {
  processType: string;
  name: string;
}

/** Dyno-style instance names, like the sample log producer's (`web.5d8f7c9b6-x2k4p`). */
export function instancesFor(appKey: string, perType: number, types = ['web', 'worker']): Instance[] {
  const out: Instance[] = [];
  for (const processType of types) {
    const rs = Math.floor(unit(`${appKey}:${processType}:rs`) * 0xfffffffff)
      .toString(16)
      .padStart(9, '0')
      .slice(0, 9);
    for (let i = 0; i < perType; i++) {
      const id = Math.floor(unit(`${appKey}:${processType}:${i}`) * 36 ** 5)
        .toString(36)
        .padStart(5, '0');
      out.push({ processType, name: `${processType}.${rs}-${id}` });
    }
  }
  return out;
}

interface Model {
  sample(t: number): Record<string, number>;
}

function model(appKey: string, inst: Instance): Model {
  const seed = `${appKey}:${inst.name}`;
  const web = inst.processType === 'web';
  const cpu = wander(`${seed}:cpu`, web ? 0.15 + 0.2 * unit(`${seed}:cpul`) : 0.05 + 0.1 * unit(`${seed}:cpul`));
  const io = wander(`${seed}:io`, 0.004 + 0.01 * unit(`${seed}:iol`));
  const rx = wander(`${seed}:rx`, web ? 60_000 + 80_000 * unit(`${seed}:rxl`) : 8_000 + 8_000 * unit(`${seed}:rxl`));
  const tx = wander(`${seed}:tx`, web ? 150_000 + 150_000 * unit(`${seed}:txl`) : 4_000 + 4_000 * unit(`${seed}:txl`));
  const err = wander(`${seed}:err`, 0.002 + 0.004 * unit(`${seed}:errl`));
  const mem = wander(`${seed}:mem`, (web ? 256 : 160) * 2 ** 20 * (0.8 + 0.4 * unit(`${seed}:meml`)));
  const fs = wander(`${seed}:fs`, 40 * 2 ** 20 * (0.8 + 0.4 * unit(`${seed}:fsl`)));
  return {
    sample(t) {
      const usage = cpu.integral(t);
      const m = mem.at(t);
      return {
        cpu_usage_seconds_total: usage,
        cpu_user_seconds_total: usage * 0.7,
        cpu_system_seconds_total: usage * 0.3,
        fs_io_time_seconds_total: io.integral(t),
        fs_usage_bytes: Math.round(fs.at(t)),
        memory_usage_bytes: Math.round(m),
        memory_working_set_bytes: Math.round(m * 0.82),
        memory_rss: Math.round(m * 0.61),
        memory_cache: Math.round(m * 0.27),
        network_receive_bytes_total: Math.floor(rx.integral(t)),
        network_transmit_bytes_total: Math.floor(tx.integral(t)),
        // floor of a growing function: whole errors that never go down
        network_receive_errors_total: Math.floor(err.integral(t)),
        network_transmit_errors_total: Math.floor(err.integral(t) * 0.5),
      };
    },
  };
}

export interface SampleOptions {
  appKey: string;
  instances: Instance[];
  /** epoch seconds; the first sample is at the first multiple of `interval` at or after `from` */
  from: number;
  to: number;
  interval: number;
  /** lines per /write request */
  batch?: number;
  /** /write requests in flight */
  concurrency?: number;
  db?: string;
  onProgress?(written: number): void;
}

export function pointsAt(appKey: string, instances: { inst: Instance; model: Model }[], t: number): InfluxPoint[] {
  const pts: InfluxPoint[] = [];
  for (const { inst, model: m } of instances) {
    for (const [measurement, value] of Object.entries(m.sample(t))) {
      pts.push({ measurement, tags: { app: appKey, process_type: inst.processType, instance: inst.name }, fields: { value }, timestamp: t });
    }
  }
  return pts;
}

/** Writes [from, to) every `interval` seconds; returns the number of points written. Each series' measurement and
 * tag set is serialised (escaped) once, then reused for every sample. */
export async function writeSamples(influx: Influx, o: SampleOptions): Promise<number> {
  const models = o.instances.map((inst) => ({ inst, model: model(o.appKey, inst) }));
  const seriesKeys = new Map<string, string>();
  const seriesKey = (inst: Instance, measurement: string) => {
    const k = `${inst.name}\u0000${measurement}`;
    let key = seriesKeys.get(k);
    if (key === undefined) {
      const line = toLineProtocol({ measurement, tags: { app: o.appKey, process_type: inst.processType, instance: inst.name }, fields: { value: 0 } });
      key = line.slice(0, line.lastIndexOf(' value=0'));
      seriesKeys.set(k, key);
    }
    return key;
  };
  const batch = o.batch ?? 5000;
  const concurrency = o.concurrency ?? 2;
  let written = 0;
  const inflight = new Set<Promise<void>>();
  let lines: string[] = [];
  const flush = async () => {
    const chunk = lines;
    lines = [];
    const p = influx.write(chunk.join('\n'), 's', { db: o.db }).then(() => {
      written += chunk.length;
      o.onProgress?.(written);
    });
    inflight.add(p);
    p.finally(() => inflight.delete(p)).catch(() => undefined);
    if (inflight.size >= concurrency) await Promise.race(inflight);
  };
  for (let t = Math.ceil(o.from / o.interval) * o.interval; t < o.to; t += o.interval) {
    for (const { inst, model: m } of models) {
      for (const [measurement, value] of Object.entries(m.sample(t))) {
        lines.push(`${seriesKey(inst, measurement)} value=${formatFieldValue('value', value)} ${t}`);
      }
    }
    if (lines.length >= batch) await flush();
  }
  if (lines.length) await flush();
  await Promise.all(inflight);
  return written;
}

export function parseDuration(raw: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(raw);
  if (!m) throw new Error(`not a duration: ${raw} (use e.g. 10s, 30m, 6h, 7d)`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: DAY }[m[2] as 's' | 'm' | 'h' | 'd'];
}

async function register(databaseUrl: string, appKey: string): Promise<void> {
  const pg = createDb(databaseUrl);
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      try {
        await prepareStack({ databaseUrl });
        if (!(await new AppRegistry(pg).register(appKey))) console.error(`sample-metrics: ${appKey} is not an app key (app-space); not registered`);
        return;
      } catch (e) {
        if (Date.now() > deadline) {
          console.error(`sample-metrics: could not register ${appKey} in PostgreSQL: ${(e as Error).message}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  } finally {
    await pg.close();
  }
}

async function main() {
  const cmd = new Command()
    .name('sample-metrics')
    .argument('[appKey]', 'app key (app-space) to write metrics for', 'demo-default')
    .option('--duration <d>', 'history to backfill before now (0s for none)', '1d')
    .option('--interval <d>', 'seconds between samples', '10s')
    .option('--instances <n>', 'instances per process type (web, worker)', '3')
    .option('--live', 'after the backfill, keep writing a sample every interval')
    .option('--db <name>', 'InfluxDB database (default: INFLUX_DB)')
    .option('--no-register', 'do not register the app in PostgreSQL (the API answers 404 for unknown apps)')
    .addHelpText(
      'after',
      [
        '',
        'Environment: INFLUX_URL, INFLUX_DB (the database, unless --db), INFLUX_TOKEN, DATABASE_URL (where the app is registered).',
        'Prints: one line with the points written by the backfill (count, instances, time taken); with --live, one line',
        'when it starts and only errors after that.',
        'Needs: InfluxDB (creates the database if missing); PostgreSQL unless --no-register (applies the migrations first).',
      ].join('\n'),
    )
    .parse();
  const appKey = cmd.args[0] ?? 'demo-default';
  const o = cmd.opts<{ duration: string; interval: string; instances: string; live?: boolean; db?: string; register: boolean }>();
  const config = loadConfig();
  const db = o.db ?? config.influxDb;
  const interval = parseDuration(o.interval);
  const duration = o.duration === '0' ? 0 : parseDuration(o.duration);
  const instances = instancesFor(appKey, Number(o.instances));
  const influx = createInflux({ url: config.influxUrl, db, token: config.influxToken, timeoutMs: 30000 });
  await prepareStack({ influx: { url: config.influxUrl, token: config.influxToken, databases: [db] } });
  // Registration (after the migrations) runs beside the backfill and retries for a minute: PostgreSQL may still
  // be starting. Without it the API answers 404 for the app, so a failure is reported, not fatal.
  const registered = o.register ? register(config.databaseUrl, appKey) : Promise.resolve();
  const now = Math.floor(Date.now() / 1000);
  if (duration > 0) {
    const started = Date.now();
    const n = await writeSamples(influx, { appKey, instances, from: now - duration, to: now + 1, interval, db });
    console.log(
      `sample-metrics: ${n} points for ${appKey} (${instances.length} instances, ${o.duration} every ${o.interval}) into ${db} in ${Date.now() - started} ms`,
    );
  }
  await registered;
  if (!o.live) {
    influx.close();
    return;
  }
  console.log(`sample-metrics: writing a sample for ${appKey} every ${o.interval} (Ctrl-C to stop)`);
  const models = instances.map((inst) => ({ inst, model: model(appKey, inst) }));
  const tick = async () => {
    const t = Math.floor(Date.now() / 1000 / interval) * interval;
    try {
      await influx.writePoints(pointsAt(appKey, models, t), 's', { db });
    } catch (e) {
      console.error(`sample-metrics: ${(e as Error).message}`);
    }
  };
  const timer = setInterval(() => void tick(), interval * 1000);
  const stop = () => {
    clearInterval(timer);
    influx.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(`sample-metrics: ${(e as Error).message}`);
    process.exit(1);
  });
}
