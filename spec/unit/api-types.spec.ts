/**
 * The API types web/ and cli/ compile against are what the current OpenAPI document generates: a
 * fragment that changes without `npm run api-types` fails here, not in a client at run time.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** scripts/openapi-types.ts --check, in its own process (openapi-typescript's dependencies are ES modules). */
function check(cwd: string): { status: number | null; output: string } {
  const res = spawnSync(process.execPath, [TSX, path.join(cwd, 'scripts', 'openapi-types.ts'), '--check'], { cwd, encoding: 'utf8' });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

describe('generated API types (cli/api-types.ts, web/src/api-types.ts)', () => {
  it('are what the current OpenAPI document generates', () => {
    const { status, output } = check(ROOT);
    expect(output).toBe('');
    expect(status).toBe(0);
  }, 60_000);

  it('describe a DLQ line as the record the API returns, not a string', () => {
    const text = fs.readFileSync(path.join(ROOT, 'cli', 'api-types.ts'), 'utf8');
    expect(text).toMatch(/DlqEntry: \{[^}]*line: components\['schemas'\]\['LogLineRecord'\];/);
  });

  it('are reported stale when a committed file differs (the check can fail)', () => {
    // A copy of the sources with one generated file edited by hand; node_modules shared through a link.
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'logway-api-types-'));
    for (const dir of ['lib', 'routes', 'drains', 'scripts', 'cli', 'web']) fs.cpSync(path.join(ROOT, dir), path.join(copy, dir), { recursive: true });
    for (const file of ['package.json', 'tsconfig.json', '.prettierrc', '.prettierrc.json', '.prettierignore']) {
      if (fs.existsSync(path.join(ROOT, file))) fs.copyFileSync(path.join(ROOT, file), path.join(copy, file));
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    fs.appendFileSync(path.join(copy, 'web', 'src', 'api-types.ts'), '// edited by hand\n');
    try {
      const { status, output } = check(copy);
      expect(output).toMatch(/web\/src\/api-types\.ts differs/);
      expect(status).toBe(1);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  }, 60_000);
});
