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

interface AppRow {
  id: string;
  name: string;
  space: string;
  app_key: string;
  created_at: Date;
}

const toApp = (r: AppRow): App => ({ id: r.id, name: r.name, space: r.space, appKey: r.app_key, createdAt: r.created_at });

/** `api-space` → {name:'api', space:'space'}; Akkeris app names contain no `-`, so the first `-` splits. */
export function splitAppKey(appKey: string): { name: string; space: string } | null {
  const i = appKey.indexOf('-');
  if (i <= 0 || i === appKey.length - 1) return null;
  return { name: appKey.slice(0, i), space: appKey.slice(i + 1) };
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
    if (this.known.has(appKey) || this.learning.has(appKey)) return;
    this.learning.add(appKey);
    this.register(appKey).then(
      () => this.learning.delete(appKey),
      (err: Error) => {
        onError?.(err);
        setTimeout(() => this.learning.delete(appKey), retryMs).unref();
      },
    );
  }

  /** Registers app-space if new; cheap for apps already seen by this process. */
  async register(rawAppKey: string): Promise<App | null> {
    const appKey = pgSafeText(rawAppKey); // tenant text (container names, build metadata): never refused by PostgreSQL
    const cached = this.known.get(appKey);
    if (cached) return cached;
    const parts = splitAppKey(appKey);
    if (!parts) return null;
    await this.db.query('INSERT INTO apps (name, space) VALUES ($1, $2) ON CONFLICT (app_key) DO NOTHING', [parts.name, parts.space]);
    return this.find(appKey);
  }

  async find(rawAppKeyOrId: string): Promise<App | null> {
    const appKeyOrId = pgSafeText(rawAppKeyOrId);
    const cached = this.known.get(appKeyOrId);
    if (cached) return cached;
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(appKeyOrId);
    const rows = await this.db.query<AppRow>(
      isUuid ? 'SELECT * FROM apps WHERE id = $1' : 'SELECT * FROM apps WHERE app_key = $1',
      [appKeyOrId],
    );
    if (!rows[0]) return null;
    const app = toApp(rows[0]);
    this.known.set(app.appKey, app);
    return app;
  }

  /** The app or the Akkeris 404 (`The specified application X does not exist.`). */
  async get(appKeyOrId: string): Promise<App> {
    const app = await this.find(appKeyOrId);
    if (!app) throw appNotFound(appKeyOrId);
    return app;
  }
}
