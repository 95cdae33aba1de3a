/** Log drains in PostgreSQL (migrations/010_drains.sql): create, list, find by id/url/token, delete. */
import { Db } from '../lib/db';
import { BadRequest, Conflict, NotFound } from '../lib/errors';
import { normalizeDrainUrl, parseDrainUrl } from './url';

export type DrainKind = 'app' | 'site';

export interface Drain {
  id: string;
  kind: DrainKind;
  /** The app key (`api-space`) or the site name: RFC5424 HOSTNAME and Logplex-Drain-Token. */
  token: string;
  url: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The Akkeris/Heroku drain object. */
export interface DrainJson {
  addon: { id: string; name: string };
  created_at: string;
  id: string;
  token: string;
  updated_at: string;
  url: string;
}

interface DrainRow {
  id: string;
  kind: DrainKind;
  token: string;
  url: string;
  created_at: Date;
  updated_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const toDrain = (r: DrainRow): Drain => ({
  id: r.id,
  kind: r.kind,
  token: r.token,
  url: r.url,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function drainJson(d: Drain): DrainJson {
  return {
    addon: { id: '', name: '' },
    created_at: d.createdAt.toISOString(),
    id: d.id,
    token: d.token,
    updated_at: d.updatedAt.toISOString(),
    url: d.url,
  };
}

export const drainNotFound = (id: string) => new NotFound(`The specified log drain ${id} does not exist.`);

export class DrainStore {
  constructor(private db: Db) {}

  /** Validates the url (422), refuses a duplicate (400, Akkeris's text), stores and returns the drain. */
  async create(kind: DrainKind, token: string, url: string): Promise<Drain> {
    parseDrainUrl(url);
    const duplicate = new BadRequest(
      `The requested log drain already exists on this ${kind === 'app' ? 'application' : 'site'}.`,
    );
    try {
      const rows = await this.db.query<DrainRow>(
        `INSERT INTO log_drains (kind, token, url) VALUES ($1, $2, $3)
         ON CONFLICT (kind, token, lower(btrim(url))) DO NOTHING RETURNING *`,
        [kind, token, url.trim()],
      );
      if (!rows[0]) throw duplicate;
      return toDrain(rows[0]);
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw duplicate;
      throw e;
    }
  }

  async list(kind: DrainKind, token: string): Promise<Drain[]> {
    const rows = await this.db.query<DrainRow>(
      'SELECT * FROM log_drains WHERE kind = $1 AND token = $2 ORDER BY created_at, id',
      [kind, token],
    );
    return rows.map(toDrain);
  }

  /** Every drain, for the workers' cache. */
  async all(): Promise<Drain[]> {
    return (await this.db.query<DrainRow>('SELECT * FROM log_drains ORDER BY created_at, id')).map(toDrain);
  }

  async byId(id: string): Promise<Drain | null> {
    if (!UUID.test(id)) return null;
    const rows = await this.db.query<DrainRow>('SELECT * FROM log_drains WHERE id = $1', [id]);
    return rows[0] ? toDrain(rows[0]) : null;
  }

  /** `:id` may be the drain id, its url or its token (Heroku accepts all three). */
  async find(kind: DrainKind, token: string, idOrUrlOrToken: string): Promise<Drain | null> {
    const key = idOrUrlOrToken.trim();
    // An id or url names one drain; the token names them all, so it only identifies a drain when the app has one.
    const rows = await this.db.query<DrainRow & { by_token: boolean }>(
      `SELECT *, NOT (id::text = lower($3) OR lower(btrim(url)) = $4) AS by_token
         FROM log_drains WHERE kind = $1 AND token = $2
         AND (id::text = lower($3) OR lower(btrim(url)) = $4 OR token = $3)
       ORDER BY by_token, created_at, id LIMIT 2`,
      [kind, token, key, normalizeDrainUrl(key)],
    );
    if (!rows[0]) return null;
    if (rows[0].by_token && rows.length > 1) {
      throw new Conflict(`The token ${key} names more than one log drain on this ${kind === 'site' ? 'site' : 'application'}; use the drain id or url.`);
    }
    return toDrain(rows[0]);
  }

  async get(kind: DrainKind, token: string, idOrUrlOrToken: string): Promise<Drain> {
    const d = await this.find(kind, token, idOrUrlOrToken);
    if (!d) throw drainNotFound(idOrUrlOrToken);
    return d;
  }

  /** Deletes and returns the drain (its DLQ lines go with it: ON DELETE CASCADE). */
  async delete(kind: DrainKind, token: string, idOrUrlOrToken: string): Promise<Drain> {
    const d = await this.get(kind, token, idOrUrlOrToken);
    const rows = await this.db.query<DrainRow>('DELETE FROM log_drains WHERE id = $1 RETURNING *', [d.id]);
    if (!rows[0]) throw drainNotFound(idOrUrlOrToken);
    return toDrain(rows[0]);
  }
}
