/**
 * The shapes of the published API contract (docs/design.md §3): an OpenAPI 3.1 document, written as
 * typed fragments (one beside each route family) that routes/openapi.ts assembles.
 */
import type { Config } from '../config';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it); the document itself is checked by spec/integration/openapi.spec.ts. */
export type Schema = { [keyword: string]: unknown };
export interface Ref {
  $ref: string;
}
export interface Header {
  description?: string;
  schema: Schema;
}
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  description?: string;
  schema: Schema;
  examples?: Record<string, { value: unknown; summary?: string }>;
}
export interface Link {
  operationId: string;
  parameters: Record<string, string>;
  description?: string;
}
export interface Response {
  description: string;
  headers?: Record<string, Header | Ref>;
  content?: Record<string, { schema: Schema | Ref }>;
  links?: Record<string, Link>;
}
export type Responses = Record<string, Response>;
export interface Operation {
  tags?: string[];
  operationId: string;
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: Schema | Ref }> };
  responses: Responses;
}
export interface PathItem {
  parameters?: Parameter[];
  get?: Operation;
  post?: Operation;
  delete?: Operation;
}
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Schema;
  servers: { url: string }[];
  security: Record<string, string[]>[];
  tags: { name: string; description?: string }[];
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, Schema>; headers: Record<string, Header>; securitySchemes: Record<string, Schema> };
}

/** The configuration a document states its limits from (the node's own: MAX_SESSION_LINES, MAX_FILTER_LENGTH, ...). */
export type OpenApiConfig = Pick<Config, 'publicUrl' | 'maxSessionLines' | 'maxFilterLength' | 'maxDrainsPerApp' | 'maxStreamsPerApp'> &
  Partial<Pick<Config, 'maxSinceSeconds'>>;

/** What one route family contributes: its paths and the component schemas only it uses. */
export interface Fragment {
  paths: Record<string, PathItem>;
  schemas?: Record<string, Schema>;
}
