/**
 * The shape of the code, read from the sources: imports run one way (bin → routes → drains → lib;
 * docs/architecture.md "arrows running up") and no files import each other in a circle, type-only imports
 * included (a circle of types is still two files that cannot be read apart). The CLI (cli/) is its
 * own program: it imports nothing of the server, and only bin/ starts it. Two packages stay behind
 * one edge each: kafkajs (and its internals) behind lib/kafka/, reached through lib/kafka/index.ts
 * alone, and pg behind lib/db.ts.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const LAYERS = ['lib', 'drains', 'routes', 'bin'] as const;
type Layer = (typeof LAYERS)[number];

const MODULE_NAME = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire(?:\.resolve)?\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

function moduleNames(source: string): string[] {
  const names: string[] = [];
  for (let m = MODULE_NAME.exec(source); m; m = MODULE_NAME.exec(source)) names.push(m[1]);
  return names;
}

/** Every relative module a file names: static imports and re-exports (type-only too), import(), require(). */
export function importedSpecifiers(source: string): string[] {
  return moduleNames(source).filter((n) => /^\.{1,2}\//.test(n));
}

/** Every package a file names (as above, and require.resolve), by package name: `kafkajs/src/x` is `kafkajs`. */
export function importedPackages(source: string): string[] {
  const names = moduleNames(source).filter((n) => !n.startsWith('.') && !n.startsWith('node:'));
  return [
    ...new Set(
      names.map((n) =>
        n
          .split('/')
          .slice(0, n.startsWith('@') ? 2 : 1)
          .join('/'),
      ),
    ),
  ];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue;
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

/** Files of `graph` that import outside what `allowed` says, as `from → to`. */
export function importsOutside(graph: Map<string, string[]>, from: (file: string) => boolean, allowed: (to: string) => boolean): string[] {
  const bad: string[] = [];
  for (const [f, deps] of graph) if (from(f)) for (const to of deps) if (!allowed(to)) bad.push(`${f} → ${to}`);
  return bad.sort();
}

/** Files (relative to the repository) that name `pkg`, sorted. */
export function importersOf(pkg: string, files: string[], read: (file: string) => string): string[] {
  return files
    .filter((f) => importedPackages(read(f)).includes(pkg))
    .map((f) => path.relative(ROOT, f))
    .sort();
}

const read = (f: string) => fs.readFileSync(f, 'utf8');
const files = [...LAYERS, 'cli'].flatMap((l) => sourceFiles(path.join(ROOT, l)));
const graph = importGraph(files, read);

describe('the import graph of lib/, drains/, routes/, bin/ and cli/', () => {
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

describe('the CLI (cli/), its own program', () => {
  it('imports nothing of the server (lib/, drains/, routes/, bin/)', () => {
    expect([...graph.keys()].filter((f) => f.startsWith('cli/')).length).toBeGreaterThan(3);
    expect(
      importsOutside(
        graph,
        (f) => f.startsWith('cli/'),
        (to) => to.startsWith('cli/'),
      ),
    ).toEqual([]);
  });

  it('is started by bin/ alone', () => {
    expect(
      importsOutside(
        graph,
        (f) => !f.startsWith('cli/') && !f.startsWith('bin/'),
        (to) => !to.startsWith('cli/'),
      ),
    ).toEqual([]);
    expect(graph.get('bin/logway.ts')).toContain('cli/program.ts');
  });
});

describe('packages behind one edge', () => {
  // Not this spec: its made-up sources below name packages.
  const everything = [...LAYERS, 'cli', 'scripts', 'spec', 'bench'].flatMap((d) => sourceFiles(path.join(ROOT, d))).filter((f) => f !== __filename);

  it('kafkajs (and its internals): lib/kafka/ only; specs and benchmarks of the Kafka layer named here', () => {
    const outside = importersOf('kafkajs', everything, read).filter((f) => !f.startsWith('lib/kafka/'));
    expect(outside).toEqual([
      // Benchmarks of kafkajs itself, and of the codecs under its fetch decoder.
      'bench/kafka-clients/bench.ts',
      'bench/kafka-clients/candidates.ts',
      'bench/kafka-codecs.ts',
      // Transactions that hold a bench's lines back until every consumer is ready.
      'bench/lib/kafka-gate.ts',
      'bench/scale-out.ts',
      // Integration specs that work Kafka around logway (adding partitions, writing as other producers do).
      'spec/integration/log-source.spec.ts',
      'spec/integration/quarantine-ready.spec.ts',
      // Specs of lib/kafka's kafkajs edge (its log levels, codecs, patches, fetch decoding).
      'spec/unit/dependencies.spec.ts',
      'spec/unit/kafka-codecs.spec.ts',
      'spec/unit/kafka-patches.spec.ts',
      'spec/unit/kafka-undecodable.spec.ts',
    ]);
    expect(importersOf('kafkajs', everything, read)).toContain('lib/kafka/index.ts');
  });

  it('the rest of logway reaches lib/kafka/ through lib/kafka/index.ts alone', () => {
    const app = importGraph(
      ['lib', 'drains', 'routes', 'bin', 'scripts'].flatMap((d) => sourceFiles(path.join(ROOT, d))),
      read,
    );
    const outsideKafka = (f: string) => !f.startsWith('lib/kafka/');
    expect(importsOutside(app, outsideKafka, (to) => !to.startsWith('lib/kafka/') || to === 'lib/kafka/index.ts')).toEqual([]);
    expect(app.get('lib/core.ts')).toContain('lib/kafka/index.ts');
  });

  it('pg: lib/db.ts only', () => {
    expect(importersOf('pg', everything, read)).toEqual(['lib/db.ts']);
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

  it('see packages by name, their internals and require.resolve included, and no relative or node: modules', () => {
    const src = [
      "import { Kafka } from 'kafkajs';",
      "import type { PoolClient } from 'pg';",
      "const d = require('kafkajs/src/protocol/decoder');",
      "const dir = path.dirname(require.resolve('kafkajs/package.json'));",
      "import * as zstd from '@bokuweb/zstd-wasm';",
      "import fs from 'node:fs';",
      "import { a } from './a';",
    ].join('\n');
    expect(importedPackages(src)).toEqual(['kafkajs', 'pg', '@bokuweb/zstd-wasm']);
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
