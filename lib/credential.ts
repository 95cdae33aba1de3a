/**
 * What a caller may touch (docs/design.md §3 "Operating logway itself", docs/credentials.md): an
 * operator credential (an API key, or a JWT without scope claims) touches everything; a scoped JWT
 * only the apps it names, the apps of the spaces it names and the sites it names, and with
 * `"access":"read"` only reads them.
 */
import { splitAppKey } from './apps';

export interface ScopedCredential {
  kind: 'scoped';
  apps: ReadonlySet<string>;
  spaces: ReadonlySet<string>;
  sites: ReadonlySet<string>;
  readOnly: boolean;
}

export type Credential = { kind: 'operator' } | ScopedCredential;

export const OPERATOR: Credential = { kind: 'operator' };

/** The scope claims a JWT may carry; present-but-empty names nothing (it never widens to operator). */
const SCOPE_CLAIMS = ['apps', 'spaces', 'sites'] as const;
const MAX_SCOPE_ENTRIES = 1000;

function claimList(payload: Record<string, unknown>, claim: string): Set<string> | null | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > MAX_SCOPE_ENTRIES) return null;
  const out = new Set<string>();
  for (const v of value) {
    if (typeof v !== 'string' || v === '' || v.length > 253) return null;
    out.add(v.toLowerCase());
  }
  return out;
}

/**
 * The credential a verified JWT payload grants, or null when its scope claims are malformed (a token
 * whose scope cannot be read is refused, never taken for an operator's).
 */
export function credentialFromClaims(payload: Record<string, unknown>): Credential | null {
  const access = payload.access;
  if (access !== undefined && access !== 'read' && access !== 'write') return null;
  const lists = SCOPE_CLAIMS.map((c) => claimList(payload, c));
  if (lists.some((l) => l === null)) return null;
  if (lists.every((l) => l === undefined) && access === undefined) return OPERATOR;
  const [apps, spaces, sites] = lists.map((l) => l ?? new Set<string>());
  return { kind: 'scoped', apps, spaces, sites, readOnly: access === 'read' };
}

export function mayTouchApp(cred: Credential, appKey: string): boolean {
  if (cred.kind === 'operator') return true;
  const key = appKey.toLowerCase();
  if (cred.apps.has(key)) return true;
  const parts = splitAppKey(key);
  return parts !== null && cred.spaces.has(parts.space);
}

export function mayTouchSite(cred: Credential, site: string): boolean {
  return cred.kind === 'operator' || cred.sites.has(site.toLowerCase());
}

/** An app key or a site, as DLQ rows and drains name their owner. */
export function mayTouchOwner(cred: Credential, owner: string): boolean {
  return mayTouchApp(cred, owner) || mayTouchSite(cred, owner);
}
