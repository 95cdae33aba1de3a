/**
 * The shape of the code, read from the sources: imports run one way (bin → routes → drains → lib;
 * docs/architecture.md "arrows running up") and no files import each other in a circle, type-only imports
 * included (a circle of types is still two files that cannot be read apart).
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const LAYERS = ['lib', 'drains', 'routes', 'bin'] as const;
type Layer = (typeof LAYERS)[number];

/** Every relative module a file names: static imports and re-exports (type-only too), import(), require(). */
export function importedSpecifiers(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) specs.push(m[1]);
  return specs;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolve(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (c.endsWith('.ts') && fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  }
  return undefined;
}

/** file → the project files it imports (paths relative to the repository). */
export function importGraph(files: string[], read: (file: string) => string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const deps = new Set<string>();
    for (const spec of importedSpecifiers(read(f))) {
      const target = resolve(f, spec);
      if (target) deps.add(path.relative(ROOT, target));
    }
    graph.set(path.relative(ROOT, f), [...deps].sort());
  }
  return graph;
}

/** One circle per back edge met in a depth-first walk, as `a → b → a`. */
export function findCycles(graph: Map<string, string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].join(' → '));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

const layerOf = (file: string): Layer | undefined => LAYERS.find((l) => file.startsWith(`${l}/`));

/** Imports from a lower layer up into a higher one, as `from → to`. */
export function upwardImports(graph: Map<string, string[]>): string[] {
  const bad: string[] = [];
  for (const [from, deps] of graph) {
    const fl = layerOf(from);
    if (!fl) continue;
    for (const to of deps) {
      const tl = layerOf(to);
      if (tl && LAYERS.indexOf(tl) > LAYERS.indexOf(fl)) bad.push(`${from} → ${to}`);
    }
  }
  return bad.sort();
}

const files = LAYERS.flatMap((l) => sourceFiles(path.join(ROOT, l)));
const graph = importGraph(files, (f) => fs.readFileSync(f, 'utf8'));

describe('the import graph of lib/, drains/, routes/ and bin/', () => {
  it('is read from the sources (the scan sees the files and their imports)', () => {
    expect(graph.size).toBeGreaterThan(80);
    expect(graph.get('bin/server.ts')).toContain('bin/wiring.ts');
    expect(graph.get('bin/wiring.ts')).toEqual(expect.arrayContaining(['lib/tail/feature.ts', 'routes/log-sessions.ts', 'drains/feature.ts']));
  });

  it('has no import from lib/ up into routes/, drains/ or bin/', () => {
    expect(upwardImports(graph).filter((e) => e.startsWith('lib/'))).toEqual([]);
  });

  it('runs one way: bin → routes → drains → lib', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('has no file circles', () => {
    expect(findCycles(graph)).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('see static, type-only, re-exported, dynamic and required imports, and no package imports', () => {
    const src = [
      "import { a } from './a';",
      "import type { B } from '../b';",
      "export { c } from './c';",
      "import './side-effect';",
      "const d = await import('./d');",
      "const e = require('../e');",
      "import express from 'express';",
    ].join('\n');
    expect(importedSpecifiers(src)).toEqual(['./a', '../b', './c', './side-effect', './d', '../e']);
  });

  it('find a circle and an upward import in a made-up graph', () => {
    const g = new Map([
      ['drains/parker.ts', ['drains/sender.ts']],
      ['drains/sender.ts', ['drains/parker.ts', 'lib/db.ts']],
      ['lib/db.ts', []],
      ['lib/events.ts', ['routes/log-events.ts']],
      ['routes/log-events.ts', ['lib/db.ts']],
    ]);
    expect(findCycles(g)).toEqual(['drains/parker.ts → drains/sender.ts → drains/parker.ts']);
    expect(upwardImports(g)).toEqual(['lib/events.ts → routes/log-events.ts']);
  });
});
