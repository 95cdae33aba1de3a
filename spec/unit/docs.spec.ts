/**
 * The docs stay true to the tree: every repository path docs/architecture.md and CONTRIBUTING.md name
 * exists, and every citation of docs/design.md (`§N "Heading"`, `§N`, or a bare `"Heading"`) in the
 * code, the scripts and the docs names a section and a heading docs/design.md has. A citation that
 * fails is fixed in docs/design.md when the heading is missing, or in the citing file when it is wrong.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const read = (rel: string): string => fs.readFileSync(path.join(ROOT, rel), 'utf8');

/** The repository's top-level folders a doc may name a path under. */
const TOP_DIRS = ['lib', 'routes', 'drains', 'bin', 'cli', 'web', 'spec', 'scripts', 'bench', 'migrations', 'docs', 'deploy'];
/** Top-level files a doc may name. */
const TOP_FILES = [
  'README.md',
  'CONTRIBUTING.md',
  'BENCHMARKS.md',
  'package.json',
  'jest.config.js',
  'jest.cluster.config.js',
  'eslint.config.mjs',
  'Dockerfile',
];

/**
 * Repository paths named in a text: `lib/kafka/index.ts`, `migrations/*.sql`, `spec/unit/`. A path
 * inside another (`dist/bin/logway.js`, `/usr/bin/chromium`) or a URL path (`GET /drains/dlq`) is not one.
 */
export function repoPaths(text: string): string[] {
  const under = new RegExp(`(?<![\\w./@-])(?:${TOP_DIRS.join('|')})/(?:[\\w.*-]+/?)*`, 'g');
  const files = new RegExp(`(?<![\\w./@-])(?:${TOP_FILES.map((f) => escapeRegExp(f)).join('|')})(?![\\w/-])`, 'g');
  const found = new Set<string>();
  for (const re of [under, files]) {
    for (const m of text.matchAll(re)) found.add(m[0].replace(/\.+$/, ''));
  }
  return [...found].sort();
}

/** Whether a repository path exists; a `*` in its last segment matches any characters. */
export function pathExists(rel: string, root = ROOT): boolean {
  const clean = rel.replace(/\/$/, '');
  if (!clean.includes('*')) return fs.existsSync(path.join(root, clean));
  const dir = path.join(root, path.dirname(clean));
  const pattern = new RegExp(`^${path.basename(clean).split('*').map(escapeRegExp).join('.*')}$`);
  return fs.existsSync(dir) && fs.readdirSync(dir).some((name) => pattern.test(name));
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** docs/design.md's numbered sections (`## N. Title`), each with its own title and the headings below it. */
export function designSections(markdown: string): Map<number, Set<string>> {
  const sections = new Map<number, Set<string>>();
  let current: Set<string> | undefined;
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    const numbered = /^## (\d+)\. (.+?)\s*$/.exec(line);
    if (numbered) {
      current = new Set([numbered[2]]);
      sections.set(Number(numbered[1]), current);
      continue;
    }
    const heading = /^#{3,6} (.+?)\s*$/.exec(line);
    if (heading && current) current.add(heading[1]);
  }
  return sections;
}

export interface DesignCitation {
  line: number;
  section?: number;
  heading?: string;
}

/** What may stand between `docs/design.md` and its `§N` or `"Heading"`: spaces, commas, `and`, a comment wrapped onto the next line. */
const CITE_GAP = String.raw`(?:[\s,]|and|\*|\/\/)*`;
const CITATION = new RegExp(String.raw`docs\/design\.md((?:${CITE_GAP}§\s?\d+(?:\s+"[^"\n]+")?)+|${CITE_GAP}"[^"\n]+")`, 'g');

/** Every citation of docs/design.md in a text: `§3 "Log drains"`, `§2, §3`, `§1), as`, or `"Operating logway itself"` alone. */
export function designCitations(text: string): DesignCitation[] {
  const out: DesignCitation[] = [];
  for (const m of text.matchAll(CITATION)) {
    const line = text.slice(0, m.index).split('\n').length;
    const refs = [...m[1].matchAll(/§\s?(\d+)(?:\s+"([^"]+)")?/g)];
    if (refs.length === 0) out.push({ line, heading: /"([^"]+)"/.exec(m[1])![1] });
    for (const r of refs) out.push({ line, section: Number(r[1]), heading: r[2] });
  }
  return out;
}

/** Why a citation does not hold against the sections, or undefined when it does. */
export function citationProblem(c: DesignCitation, sections: Map<number, Set<string>>): string | undefined {
  if (c.section !== undefined) {
    const headings = sections.get(c.section);
    if (!headings) return `§${c.section} does not exist`;
    if (c.heading !== undefined && !headings.has(c.heading)) return `§${c.section} has no heading "${c.heading}"`;
    return undefined;
  }
  const anywhere = [...sections.values()].some((h) => h.has(c.heading!));
  return anywhere ? undefined : `no heading "${c.heading}"`;
}

/** Text files that may cite the design: sources, scripts, specs, benches, docs and the top-level config. */
function citingFiles(): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const child = path.join(rel, e.name);
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      if (e.isDirectory()) walk(child);
      else if (/\.(ts|js|mjs|md|sh|sql)$|^[^.]+$/.test(e.name)) out.push(child);
    }
  };
  for (const dir of ['lib', 'routes', 'drains', 'bin', 'cli', 'spec', 'scripts', 'bench', 'web', 'docs']) walk(dir);
  for (const f of fs.readdirSync(ROOT)) if (/\.(md|js|mjs)$/.test(f)) out.push(f);
  // This spec's own examples are made up.
  return out.filter((f) => f !== path.join('spec', 'unit', 'docs.spec.ts'));
}

describe('docs/architecture.md and CONTRIBUTING.md', () => {
  for (const doc of ['docs/architecture.md', 'CONTRIBUTING.md']) {
    it(`${doc} names only paths that exist`, () => {
      const paths = repoPaths(read(doc));
      expect(paths.length).toBeGreaterThan(5);
      expect(paths.filter((p) => !pathExists(p))).toEqual([]);
    });
  }

  it('docs/architecture.md holds the phrases the code cites it by', () => {
    const text = read('docs/architecture.md');
    const cited = citingFiles().flatMap((f) => [...read(f).matchAll(/docs\/architecture\.md "([^"]+)"/g)].map((m) => ({ file: f, phrase: m[1] })));
    expect(cited.filter((c) => !text.includes(c.phrase))).toEqual([]);
  });
});

describe('citations of docs/design.md', () => {
  const sections = designSections(read('docs/design.md'));

  it('docs/design.md keeps the numbered sections 1 to 4', () => {
    expect([...sections.keys()]).toEqual([1, 2, 3, 4]);
  });

  it('name sections and headings docs/design.md has', () => {
    const citations = citingFiles().flatMap((file) => designCitations(read(file)).map((c) => ({ file, ...c })));
    expect(citations.length).toBeGreaterThan(20);
    const problems = citations.flatMap((c) => {
      const problem = citationProblem(c, sections);
      return problem ? [`${c.file}:${c.line}: ${problem}`] : [];
    });
    expect(problems).toEqual([]);
  });
});

describe('references outside the repository', () => {
  it('no code, script or doc points at a design or style file a clone does not have', () => {
    const outside = /\bDESIGN\.md|\bDESIGN §|\bSTYLE\.md|\.\.\/shared\//;
    const files = citingFiles();
    expect(files).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', path.join('lib', 'config.ts')]));
    expect(files.filter((f) => outside.test(read(f)))).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('find repository paths, not paths inside others or URL paths', () => {
    const text = [
      'See `lib/kafka/index.ts`, the `migrations/*.sql` files and spec/unit/.',
      'Built into dist/bin/logway.js; chromium at /usr/bin/chromium; `GET /drains/dlq` and BENCHMARKS.md.',
    ].join('\n');
    expect(repoPaths(text)).toEqual(['BENCHMARKS.md', 'lib/kafka/index.ts', 'migrations/*.sql', 'spec/unit/']);
  });

  it('see a missing path and match a glob', () => {
    expect(pathExists('lib/config.ts')).toBe(true);
    expect(pathExists('lib/no-such-module.ts')).toBe(false);
    expect(pathExists('migrations/*.sql')).toBe(true);
    expect(pathExists('migrations/*.nope')).toBe(false);
  });

  it('read sections, headings and citations, and find the ones that do not hold', () => {
    const design = ['## 1. The picture', '### Inside', '```', '### not a heading', '```', '## 2. Formats', '#### App logs'].join('\n');
    const sections = designSections(design);
    expect(sections).toEqual(
      new Map([
        [1, new Set(['The picture', 'Inside'])],
        [2, new Set(['Formats', 'App logs'])],
      ]),
    );
    const cite = (rest: string) => `(docs/design.md ${rest})`;
    const wrapped = ` * (docs/design.md\n * "Inside")`;
    const text = [cite('§2 "App logs"'), cite('§1, §2'), wrapped, cite('§1 "App logs"'), cite('§5'), cite('"Nowhere"')].join('\n');
    const citations = designCitations(text);
    expect(citations).toEqual([
      { line: 1, section: 2, heading: 'App logs' },
      { line: 2, section: 1, heading: undefined },
      { line: 2, section: 2, heading: undefined },
      { line: 3, heading: 'Inside' },
      { line: 5, section: 1, heading: 'App logs' },
      { line: 6, section: 5, heading: undefined },
      { line: 7, heading: 'Nowhere' },
    ]);
    expect(citations.map((c) => citationProblem(c, sections))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      '§1 has no heading "App logs"',
      '§5 does not exist',
      'no heading "Nowhere"',
    ]);
  });
});
