/** The contract of routes/builds.ts: a build's result and output. */
import { appParam, appRoute, error, ok } from '../lib/openapi/common';
import type { Fragment } from '../lib/openapi/types';

/** The build the examples name; scripts/schemathesis seeds it, so the fuzzer reaches a real one. */
export const EXAMPLE_BUILD_ID = '5f0c8d2e-7a1b-4c3d-9e8f-0a1b2c3d4e5f';

export function buildsOpenApi(): Fragment {
  return {
    paths: {
      '/apps/{app}/builds/{id}/result': {
        get: {
          tags: ['builds'],
          operationId: 'getBuildResult',
          summary: "A build's result and output",
          parameters: [
            appParam(),
            {
              name: 'id',
              in: 'path',
              required: true,
              schema: { type: 'string', format: 'uuid', examples: [EXAMPLE_BUILD_ID] },
              description: 'The build id.',
            },
          ],
          responses: {
            ...appRoute,
            '200': ok('Streamed; a queued build has no lines yet.', { $ref: '#/components/schemas/BuildResult' }),
            '404': error('`The specified application <app> does not exist.` or `The specified build <id> was not found.` (also for a build of another app).'),
            '422': error('`The specified uuid was invalid.` (checked before the app).'),
          },
        },
      },
    },
    schemas: {
      BuildResult: {
        type: 'object',
        required: ['build', 'lines'],
        properties: {
          build: {
            type: 'object',
            required: ['id', 'status', 'output_stream_url'],
            properties: {
              id: { type: 'string', format: 'uuid' },
              status: { type: 'string', enum: ['queued', 'pending', 'succeeded', 'failed'] },
              output_stream_url: { type: 'string', format: 'uri' },
            },
          },
          lines: { type: 'array', items: { type: 'string' }, description: 'Build output, Akkeris-stripped (no ARG steps, no ` ---> ` lines, no blanks).' },
        },
      },
    },
  };
}
