/**
 * One document from the route families' fragments. routes/openapi.ts owns the list of fragments
 * (lib never imports routes); this only joins them, refusing a path or a schema two fragments claim.
 */
import { componentHeaders, securitySchemes, sharedSchemas } from './common';
import type { Fragment, OpenApiConfig, OpenApiDocument, PathItem, Schema } from './types';

function joinInto<T>(into: Record<string, T>, from: Record<string, T>, what: string): void {
  for (const [key, value] of Object.entries(from)) {
    if (key in into) throw new Error(`OpenAPI: ${what} ${key} is described by two fragments`);
    into[key] = value;
  }
}

export function assembleDocument(cfg: OpenApiConfig, fragments: Fragment[]): OpenApiDocument {
  const paths: Record<string, PathItem> = {};
  const schemas: Record<string, Schema> = { ...sharedSchemas };
  for (const fragment of fragments) {
    joinInto(paths, fragment.paths, 'path');
    joinInto(schemas, fragment.schemas ?? {}, 'schema');
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'logway',
      version: '1',
      description:
        'Log and metrics gateway for Akkeris/Heroku-style platforms (wire-compatible with Akkeris and the Heroku CLI). ' +
        'Every response carries `X-Request-Id` (echoed when given and well-formed, else generated). Errors are `{"id","message"}`. ' +
        'When `UPSTREAM_URL` is set, requests logway does not own are proxied to the Akkeris controller (503 when it cannot be reached).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: cfg.publicUrl }],
    security: [{ apiKey: [] }, { bearer: [] }],
    tags: [
      { name: 'log sessions' },
      { name: 'log drains' },
      { name: 'dead-letter queue' },
      { name: 'builds' },
      { name: 'events' },
      { name: 'metrics' },
      { name: 'operations', description: "logway's own health, metrics and this document (unauthenticated)." },
    ],
    paths,
    components: { schemas, headers: componentHeaders, securitySchemes },
  };
}
