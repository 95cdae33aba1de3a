// Builds the web console (web/src) into dist/web: content-hashed JS and CSS bundles (esbuild, uPlot inside)
// and an index.html that names them. No CDN, no inline script or style: the CSP in lib/console.ts forbids both.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', 'dist', 'web');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { app: path.join(here, 'src', 'main.ts') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  outdir: out,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`console build: missing bundle (${outputs.join(', ')})`);
const html = readFileSync(path.join(here, 'index.html'), 'utf8').replace('%APP_JS%', `/console/${js}`).replace('%APP_CSS%', `/console/${css}`);
writeFileSync(path.join(out, 'index.html'), html);
writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ js, css }, null, 2) + '\n');

// Compressed once here, served as is by lib/console.ts to clients that accept them.
for (const name of [js, css, 'index.html']) {
  const body = readFileSync(path.join(out, name));
  writeFileSync(path.join(out, `${name}.br`), zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
  writeFileSync(path.join(out, `${name}.gz`), zlib.gzipSync(body, { level: 9 }));
}
