/** The contract of lib/console.ts: the web console's page and its content-hashed assets (unauthenticated). */
import { ASSET } from './console';
import { error, requestIdHeader, text } from './openapi/common';
import type { Fragment, Operation } from './openapi/types';

/** `GET /` and `GET /console`: the page, or 503 on a node where it was not built. */
function consolePage(operationId: string): Operation {
  return {
    tags: ['operations'],
    operationId,
    summary: 'The web console (HTML; strict Content-Security-Policy; uses only this API)',
    security: [],
    responses: {
      '200': { description: 'The console page.', headers: requestIdHeader, content: { 'text/html': { schema: { type: 'string', description: 'The page.' } } } },
      '503': error('The console is not built on this node.'),
    },
  };
}

/** `files`: the asset names this node's build serves (lib/console.ts consoleAssetNames); none leaves only the name's form. */
export function consoleOpenApi(files: string[]): Fragment {
  return {
    paths: {
      '/': { get: consolePage('consolePage') },
      '/console': { get: consolePage('consolePageAlias') },
      '/console/{file}': {
        get: {
          tags: ['operations'],
          operationId: 'consoleAsset',
          summary: 'A web console asset (content-hashed name, cached for a year)',
          security: [],
          parameters: [
            {
              name: 'file',
              in: 'path',
              required: true,
              description: "An asset of this node's console build (named in the page).",
              schema: { type: 'string', pattern: ASSET.source.replace('\\w', 'A-Za-z0-9_'), ...(files.length ? { enum: files } : {}) },
            },
          ],
          responses: {
            '200': { description: 'The asset.', headers: requestIdHeader, content: { 'text/javascript': text('Script.'), 'text/css': text('Style sheet.') } },
            '404': error('No such asset.'),
          },
        },
      },
    },
  };
}
