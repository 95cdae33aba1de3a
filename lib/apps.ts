/** The app registry: apps learned from the log stream (first line seen registers `app-space`), kept in PostgreSQL. */
import { Db, pgSafeText } from './db';
import { appNotFound } from './errors';

export interface App {
  id: string;
  name: string;
  space: string;
  appKey: string;
  createdAt: Date;
}

/** `GET /apps` rows: the console's app list. */
export interface AppSeen {
  id: string;
  name: string;
  last_seen_at: string;
}

/** A node records "seen" at most this often per app: the stream's hot path costs a map lookup, not a write. */
export const SEEN_INTERVAL_MS = 60_000;

interface AppRow {
  id: string;
  name: string;
  space: string;
  app_key: string;
  created_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const toApp = (r: AppRow): App => ({ id: r.id, name: r.name, space: r.space, appKey: r.app_key, createdAt: r.created_at });

export interface AppKeyParts {
  app: string;
  space: string;
}

/** The space Akkeris gives an app whose key names none (`api` is `api` in `default`). */
export const DEFAULT_SPACE = 'default';

/**
 * `api-space` → {app:'api', space:'space'}; Akkeris app names contain no `-`, so the first `-` splits.
 * null when the app or the space would be empty. A key with no `-` at all is not an app key, unless
 * `defaultSpace` is given: the log topics' hostnames and build metadata may name an app alone.
 */
export function splitAppKey(appKey: string, opts: { defaultSpace?: string } = {}): AppKeyParts | null {
  const i = appKey.indexOf('-');
  if (i < 0) return opts.defaultSpace !== undefined && appKey !== '' ? { app: appKey, space: opts.defaultSpace } : null;
  if (i === 0 || i === appKey.length - 1) return null;
  return { app: appKey.slice(0, i), space: appKey.slice(i + 1) };
}

export class AppRegistry {
  private known = new Map<string, App>();

  constructor(private db: Db) {}

  private learning = new Set<string>();

  /**
   * Fire-and-forget registration for the log stream's hot path: one attempt per app in flight, and
   * after a failure (PostgreSQL down) the app is retried only after `retryMs`, not on every line.
   */
  learn(appKey: string, onError?: (err: Error) => void, retryMs = 10_000): void {
    if (this.learning.has(appKey)) return;
    if (this.known.has(appKey)) return this.seen(appKey);
    this.learning.add(appKey);
    this.seenAt.set(appKey, Date.now());
    this.register(appKey).then(
      () => this.learning.delete(appKey),
      (err: Error) => {
        onError?.(err);
        setTimeout(() => this.learning.delete(appKey), retryMs).unref();
      },
    );
  }

  private seenAt = new Map<string, number>();

  /** Fire-and-forget `last_seen_at`, once per SEEN_INTERVAL_MS per app (a failure waits for the next interval). */
  private seen(appKey: string): void {
    const now = Date.now();
    if (now - (this.seenAt.get(appKey) ?? 0) < SEEN_INTERVAL_MS) return;
    this.seenAt.set(appKey, now);
    this.db.query('UPDATE apps SET last_seen_at = now() WHERE app_key = $1', [appKey]).catch(() => undefined);
  }

  /**
   * Apps, most recently seen first; `q` matches part of the app key (case-insensitive); `only` keeps
   * the apps a scoped credential may see (those it names and those of the spaces it names).
   */
  async list(opts: { q?: string; limit: number; only?: { appKeys: string[]; spaces: string[] } }): Promise<AppSeen[]> {
    const q = opts.q ? pgSafeText(opts.q).replace(/[\\%_]/g, (c) => `\\${c}`) : '';
    const params: unknown[] = [opts.limit];
    const where: string[] = [];
    if (q) {
      params.push(q);
      where.push(`app_key ILIKE '%' || $${params.length} || '%'`);
    }
    if (opts.only) {
      params.push(opts.only.appKeys.map(pgSafeText), opts.only.spaces.map(pgSafeText));
      where.push(`(lower(app_key) = ANY($${params.length - 1}::text[]) OR lower(space) = ANY($${params.length}::text[]))`);
    }
    const rows = await this.db.query<{ id: string; app_key: string; last_seen_at: Date }>(
      `SELECT id, app_key, last_seen_at FROM apps ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY last_seen_at DESC, app_key LIMIT $1`,
      params,
    );
    return rows.map((r) => ({ id: r.id, name: r.app_key, last_seen_at: r.last_seen_at.toISOString() }));
  }

  /** Registers app-space if new; cheap for apps already seen by this process. */
  async register(rawAppKey: string): Promise<App | null> {
    const appKey = pgSafeText(rawAppKey); // tenant text (container names, build metadata): never refused by PostgreSQL
    const cached = this.known.get(appKey);
    if (cached) return cached;
    const parts = splitAppKey(appKey);
    if (!parts) return null;
    await this.db.query('INSERT INTO apps (name, space) VALUES ($1, $2) ON CONFLICT (app_key) DO UPDATE SET last_seen_at = now()', [parts.app, parts.space]);
    return this.find(appKey);
  }

  async find(rawAppKeyOrId: string): Promise<App | null> {
    const appKeyOrId = pgSafeText(rawAppKeyOrId);
    const cached = this.known.get(appKeyOrId);
    if (cached) return cached;
    const isUuid = UUID.test(appKeyOrId);
    const rows = await this.db.query<AppRow>(isUuid ? 'SELECT * FROM apps WHERE id = $1' : 'SELECT * FROM apps WHERE app_key = $1', [appKeyOrId]);
    if (!rows[0]) return null;
    const app = toApp(rows[0]);
    this.known.set(app.appKey, app);
    return app;
  }

  /** The app or the Akkeris 404 (`The specified application X does not exist.`). */
  async get(appKeyOrId: string): Promise<App> {
    const app = (await this.find(appKeyOrId)) ?? (await this.discovered(appKeyOrId));
    if (!app) throw appNotFound(appKeyOrId);
    return app;
  }

  /**
   * Where an app the registry lacks is looked for before a 404: the tail hub, in the lines its
   * space topic retained from before the node started (a first deployment against a Kafka that
   * already holds logs). Resolves true when that app's lines are there.
   */
  private discover?: (appKey: string) => Promise<boolean>;

  setDiscovery(discover: ((appKey: string) => Promise<boolean>) | undefined): void {
    this.discover = discover;
  }

  /** An app key found by discovery is registered, as its first line would have done. */
  private async discovered(rawAppKey: string): Promise<App | null> {
    const appKey = pgSafeText(rawAppKey);
    if (!this.discover || UUID.test(appKey) || !splitAppKey(appKey)) return null;
    return (await this.discover(appKey)) ? this.register(appKey) : null;
  }
}
