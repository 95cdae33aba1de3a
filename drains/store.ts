/** Log drains in PostgreSQL (migrations/010_drains.sql): create, list, find by id/url/token, delete. */
import { Db } from '../lib/db';
import { BadRequest, Conflict, NotFound, Unprocessable } from '../lib/errors';
import { DestinationPolicy, DestinationRefused } from './destination';
import { DrainTarget, normalizeDrainUrl, parseDrainUrl } from './url';

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

/** MAX_DRAINS_PER_APP's default (lib/config), for callers that pass no limit. */
export const DEFAULT_MAX_DRAINS = 10;

export interface CreateOptions {
  /** Drains one app or site may have (config.maxDrainsPerApp). */
  maxDrains?: number;
  /** When given, the url's host must resolve to allowed addresses only (422 otherwise). */
  destinations?: DestinationPolicy;
}

/** The destination check at creation: a refused or unresolvable host is 422 saying which address and why. */
export async function checkDestination(target: DrainTarget, destinations: DestinationPolicy): Promise<void> {
  try {
    await destinations.resolve(target.host);
  } catch (e) {
    if (e instanceof DestinationRefused) throw new Unprocessable(`The specified drain destination is not allowed: ${e.message}.`);
    throw new Unprocessable(`The specified drain host ${target.host} could not be resolved.`);
  }
}

export class DrainStore {
  constructor(private db: Db) {}

  /**
   * Validates the url and its destination (422), refuses a duplicate (400, Akkeris's text) and an
   * owner already at its drain limit (422), stores and returns the drain.
   */
  async create(kind: DrainKind, token: string, url: string, opts: CreateOptions = {}): Promise<Drain> {
    const target = parseDrainUrl(url);
    if (opts.destinations) await checkDestination(target, opts.destinations);
    const max = opts.maxDrains ?? DEFAULT_MAX_DRAINS;
    const owner = kind === 'app' ? 'application' : 'site';
    const duplicate = new BadRequest(`The requested log drain already exists on this ${owner}.`);
    try {
      return await this.db.tx(async (client) => {
        // Creates for one owner take turns (the lock ends with the transaction), so two concurrent
        // creates cannot both count 9 and both insert the 10th.
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`log_drains:${kind}:${token}`]);
        const { rows } = await client.query<DrainRow>(
          `INSERT INTO log_drains (kind, token, url)
           SELECT $1::text, $2::text, $3::text
            WHERE (SELECT count(*) FROM log_drains WHERE kind = $1::text AND token = $2::text) < $4::int
           ON CONFLICT (kind, token, lower(btrim(url))) DO NOTHING RETURNING *`,
          [kind, token, url.trim(), max],
        );
        if (rows[0]) return toDrain(rows[0]);
        const { rows: same } = await client.query('SELECT 1 FROM log_drains WHERE kind = $1 AND token = $2 AND lower(btrim(url)) = $3', [
          kind,
          token,
          normalizeDrainUrl(url),
        ]);
        if (same.length > 0) throw duplicate;
        throw new Unprocessable(`The maximum number of drains reached for this ${owner} (${max}).`);
      });
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw duplicate;
      throw e;
    }
  }

  async list(kind: DrainKind, token: string): Promise<Drain[]> {
    const rows = await this.db.query<DrainRow>('SELECT * FROM log_drains WHERE kind = $1 AND token = $2 ORDER BY created_at, id', [kind, token]);
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
