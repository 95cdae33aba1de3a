/** A small client for logway's HTTP API: base URL and key from the environment, server errors surfaced as their message. */
import type { components } from './api-types';
import type { CliIo } from './io';
import { CliError } from './io';

/** The API's bodies, generated from its OpenAPI document (cli/api-types.ts). */
export type Schemas = components['schemas'];

export const DEFAULT_API_URL = 'http://127.0.0.1:5000';

export interface ApiResponse<T> {
  status: number;
  body: T;
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly key?: string;

  constructor(private io: CliIo) {
    const raw = (io.env.LOGWAY_API_URL || DEFAULT_API_URL).trim();
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw new CliError(`LOGWAY_API_URL must be an http(s) URL, got "${raw}".`);
    }
    this.baseUrl = raw.replace(/\/+$/, '');
    this.key = io.env.LOGWAY_API_KEY || undefined;
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /** Any status comes back; only an unreachable server throws. */
  async raw<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    // The raw key is what `aka` sends (API_AUTH); logway also takes `Bearer <key>`.
    if (this.key) headers.Authorization = this.key;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await this.io.fetch(this.url(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw unreachable(this.baseUrl, e);
    }
    const text = await res.text();
    let parsed: unknown = text;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON: keep the text */
      }
    }
    return { status: res.status, body: parsed as T };
  }

  /** The body of a 2xx answer; otherwise a CliError with the server's message. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw<T>(method, path, body);
    if (res.status >= 200 && res.status < 300) return res.body;
    throw new CliError(serverMessage(res.status, res.body));
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body ?? {});
  }
  delete<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('DELETE', path, body);
  }
}

/** `{"id","message"}` is logway's (and Akkeris's) error body; anything else is shown as the status. */
export function serverMessage(status: number, body: unknown): string {
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  if (typeof body === 'string' && body.trim() !== '' && body.length < 500) return `HTTP ${status}: ${body.trim()}`;
  return `HTTP ${status}`;
}

export function unreachable(baseUrl: string, e: unknown): CliError {
  const err = e as { cause?: { code?: string; message?: string }; message?: string };
  const why = err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
  return new CliError(`Cannot reach logway at ${baseUrl} (${why}). Is it running? Set LOGWAY_API_URL to point elsewhere.`);
}

export const enc = encodeURIComponent;
