/**
 * The API types web/ and cli/ use, generated from the OpenAPI document (routes/openapi.ts) by
 * openapi-typescript, so a client cannot drift from what the API answers. Run after changing a
 * fragment: `npm run api-types`. With `--check` it writes nothing and fails while a committed file is stale
 * (spec/unit/api-types.spec.ts runs it so: openapi-typescript's dependencies are ES modules jest cannot load).
 *
 * The document is the one of a node with the default configuration and no console build: the types
 * do not depend on either, only the limits quoted in their comments do.
 */
import fs from 'node:fs';
import path from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import * as prettier from 'prettier';
import { loadConfig } from '../lib/config';
import { openApiDocument } from '../routes/openapi';

const ROOT = path.resolve(__dirname, '..');
/** Where the generated types live: one copy per client, each a program of its own. */
export const API_TYPES_FILES = ['cli/api-types.ts', 'web/src/api-types.ts'].map((f) => path.join(ROOT, f));

const HEADER = `/**
 * logway's API types, generated from its OpenAPI document (routes/openapi.ts) by openapi-typescript.
 * Do not edit: change the document's fragments, then run \`npm run api-types\`.
 */
`;

/** The file's text, formatted as the repository's other sources (Prettier) so `npm run lint` holds for it too. */
export async function generateApiTypes(file: string): Promise<string> {
  const doc = openApiDocument(loadConfig({}));
  const ast = await openapiTS(JSON.parse(JSON.stringify(doc)) as Parameters<typeof openapiTS>[0]);
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(HEADER + astToString(ast), { ...options, filepath: file });
}

async function main(check: boolean): Promise<number> {
  let stale = 0;
  for (const file of API_TYPES_FILES) {
    const text = await generateApiTypes(file);
    const name = path.relative(ROOT, file);
    if (!check) {
      fs.writeFileSync(file, text);
      process.stdout.write(`wrote ${name}\n`);
    } else if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) {
      stale++;
      process.stdout.write(`${name} differs from what the OpenAPI document generates: run npm run api-types\n`);
    }
  }
  return stale ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.includes('--check')).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`api-types: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
}
