/** The public API, same origin, with the API key the user gave once (sessionStorage: gone with the tab). */
import type { components } from './api-types';

/** The API's bodies, generated from its OpenAPI document (web/src/api-types.ts). */
export type Schemas = components['schemas'];

const KEY = 'logway.apiKey';

export class ApiError extends Error {
  constructor(
    public status: number,
    public id: string,
    message: string,
  ) {
    super(message);
  }
}

export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (k: string) => sessionStorage.setItem(KEY, k),
  clear: () => sessionStorage.removeItem(KEY),
};

/** Called when the API says 401: the key is forgotten and asked for again. */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

export async function api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const h: Record<string, string> = { Accept: 'application/json', ...headers };
  const key = apiKey.get();
  if (key) h.Authorization = key;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', 'logway did not answer (network error).');
  }
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const e = (data && typeof data === 'object' ? data : {}) as { id?: string; message?: string };
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, e.id ?? String(res.status), e.message ?? `${res.status} ${res.statusText}`);
  }
  return data as T;
}

/** A logplex_url, opened on this origin: the console's CSP allows no other, and any node serves any session. */
export function sameOrigin(url: string): string {
  const u = new URL(url, location.href);
  return `${u.pathname}${u.search}`;
}
