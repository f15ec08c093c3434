/**
 * Every ```ts block in docs/*.md and README.md is a program, and this file
 * runs it, so the documentation cannot drift from the code.
 *
 *   1. Extract each fenced block whose info string is `ts` or `typescript`.
 *   2. Rewrite its imports: `from 'normgrad'` becomes the absolute path of
 *      src/node.ts (what Node resolves `normgrad` to), and a relative specifier (`'../src/tensor/kernels/batch-norm.js'`)
 *      is resolved from the markdown file's folder, so a page can import the
 *      internals it explains with the same link a reader clicks.
 *   3. Write it to test/docs/.tmp/<run>/ (ignored by git through `*.tmp`).
 *   4. Type-check all blocks with the project's tsconfig (strict), then run
 *      each one with a dynamic import(), which vitest transforms like any .ts.
 *      A block checks itself with node:assert or a `throw`; a block that
 *      throws fails its test, named by file and line.
 *
 * Two kinds of block are not run:
 *   ```ts no-run                 deliberately invalid (a compile error the API
 *                                is designed to produce); the test asserts it
 *                                really fails to type-check, with the code named
 *                                in an `error TS2554` comment if it has one.
 *   ```ts from=../src/x/y.ts     an excerpt of the source, read line by line in
 *                                a page; the test asserts the file still contains
 *                                it verbatim.
 * Finally every relative link in the pages must point at an existing file
 * (and heading); a line link (#L40-L60) must name, in backticks, something
 * that is in those lines, so a link that drifted with the code fails.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Snippets run in Node, where `normgrad` resolves to the Node entry (package.json's "node"
// condition); the .js spelling is what NodeNext resolution wants, and vitest maps it to node.ts.
const INDEX = join(ROOT, 'src', 'node.js');
const TMP_PARENT = join(ROOT, 'test', 'docs', '.tmp');

export interface Snippet {
  /** `docs/batch-norm.md:120`, the line of the opening fence. */
  id: string;
  /** The markdown file it came from. */
  source: string;
  code: string;
  /** true for ```ts no-run: expected to fail type-checking, never run. */
  noRun: boolean;
  /** For ```ts from=<path>: the source file (relative to the markdown file) this block quotes. */
  excerptOf: string | null;
}

/**
 * The ```ts / ```typescript blocks of a markdown text. A fence may be
 * indented (inside a list); its indentation is removed from the block's lines.
 * Other languages (```text, ```sh) are skipped.
 */
export function extractSnippets(markdown: string, source: string): Snippet[] {
  const lines = markdown.split(/\r?\n/);
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang, rest] = open as unknown as [string, string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    for (; j < lines.length && !close.test(lines[j]!); j++) {
      const line = lines[j]!;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    if (lang === 'ts' || lang === 'typescript') {
      const flags = rest.split(/\s+/).filter(Boolean);
      const from = flags.find((f) => f.startsWith('from='));
      out.push({
        id: `${source}:${i + 1}`, source, code: body.join('\n'),
        noRun: flags.includes('no-run'), excerptOf: from === undefined ? null : from.slice('from='.length),
      });
    }
    i = j; // skip past the closing fence
  }
  return out;
}

/** Rewrites `'normgrad'` and relative import specifiers to absolute paths. */
export function rewriteImports(code: string, markdownFile: string): string {
  const base = dirname(markdownFile);
  return code.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"]+)\2/g, (whole, lead: string, quote: string, spec: string) => {
    if (spec === 'normgrad' || spec === 'normgrad/node') return `${lead}${quote}${INDEX}${quote}`;
    if (spec.startsWith('./') || spec.startsWith('../')) return `${lead}${quote}${resolve(base, spec)}${quote}`;
    return whole;
  });
}

/** GitHub's heading anchors: lowercased, punctuation dropped, spaces to '-', repeats numbered. */
export function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  let inFence = false;
  for (const line of markdown.split(/\r?\n/)) {
    if (/^ {0,3}(`{3,}|~{3,})/.test(line)) inFence = !inFence;
    const h = inFence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = h[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    let slug = base;
    for (let k = 1; slugs.has(slug); k++) slug = `${base}-${k}`;
    slugs.add(slug);
  }
  return slugs;
}

function markdownFiles(): string[] {
  const docs = join(ROOT, 'docs');
  const files = existsSync(docs)
    ? readdirSync(docs).filter((f) => f.endsWith('.md')).sort().map((f) => join(docs, f))
    : [];
  const readme = join(ROOT, 'README.md');
  if (existsSync(readme)) files.push(readme);
  return files;
}

const allBlocks: (Snippet & { markdownFile: string })[] = markdownFiles().flatMap((file) =>
  extractSnippets(readFileSync(file, 'utf8'), relative(ROOT, file)).map((s) => ({ ...s, markdownFile: file })),
);
const snippets = allBlocks.filter((s) => s.excerptOf === null);
const excerpts = allBlocks.filter((s) => s.excerptOf !== null);

/**
 * Links into this repository's files on GitHub, which the README uses so they also work on
 * the npm registry's page; they are checked like relative links, from the repository root.
 */
const REPOSITORY_FILE_URLS = ['https://github.com/normgrad/normgrad/blob/main/', 'https://raw.githubusercontent.com/normgrad/normgrad/main/'];

/**
 * Relative links of a markdown text: `[text](../src/x.ts#L3-L9)` -> { text, target: '../src/x.ts#L3-L9' };
 * a repository file URL becomes a root-relative target ('/src/x.ts#L3-L9').
 */
export function relativeLinks(markdown: string): { text: string; target: string }[] {
  const links: { text: string; target: string }[] = [];
  for (const m of markdown.matchAll(/\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    let target = m[2]!;
    const base = REPOSITORY_FILE_URLS.find((url) => target.startsWith(url));
    if (base !== undefined) target = `/${target.slice(base.length)}`;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue; // https:, mailto:, in-page anchors
    links.push({ text: m[1]!, target });
  }
  return links;
}

/**
 * Checks a line link against the lines it points at. Line numbers drift when
 * a file changes, so a line link must name what it points at in backticks,
 * and the range must start at a line containing that name, or at the comment
 * block right above it: [`channelMoments`](...#L7-L30). `Class.member`
 * matches `member`. Returns a problem, or null.
 */
export function checkLineLink(text: string, fileText: string, first: number, last: number): string | null {
  const lines = fileText.split('\n');
  if (!(first >= 1 && first <= last && last <= lines.length)) return `lines outside the file's ${lines.length}`;
  const name = /`([^`]+)`/.exec(text)?.[1];
  if (name === undefined) return 'a line link must name its target in backticks, e.g. [`channelMoments`](...#L7-L30)';
  const member = /^[\w$]+(?:\.[\w$]+)+$/.test(name) ? name.slice(name.lastIndexOf('.') + 1) : name;
  // The range must start at the named line, or at the comment block right above it.
  for (let k = first - 1; k < last; k++) {
    const line = lines[k]!;
    if (line.includes(name) || line.includes(member)) return null;
    if (!/^\s*(\/\*\*|\*|\*\/|\/\/)/.test(line)) break;
  }
  return `lines ${first}-${last} do not start at \`${name}\` or its comment (did the code move?)`;
}

let runDir = '';
const fileOf = new Map<string, string>();
let diagnosticsOf = new Map<string, string[]>();

/** Type-checks every snippet file in one program, with the project's compiler options. */
function typeCheck(files: string[]): Map<string, string[]> {
  const configPath = join(ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const program = ts.createProgram(files, { ...parsed.options, noEmit: true, sourceMap: false, declaration: false, declarationMap: false });
  const byFile = new Map<string, string[]>();
  for (const file of files) {
    const sf = program.getSourceFile(file);
    const diags = sf ? [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)] : [];
    byFile.set(
      file,
      diags.map((d) => {
        const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
        const at = where ? `snippet line ${where.line + 1}: ` : '';
        return `${at}TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      }),
    );
  }
  return byFile;
}

beforeAll(() => {
  mkdirSync(TMP_PARENT, { recursive: true });
  runDir = mkdtempSync(join(TMP_PARENT, 'run-'));
  snippets.forEach((s, k) => {
    const name = `${s.source.replace(/[^a-z0-9]+/gi, '-')}-${s.id.split(':')[1]}-${k}.ts`;
    const file = join(runDir, name);
    writeFileSync(file, `// ${s.id}\n${rewriteImports(s.code, s.markdownFile)}\n`);
    fileOf.set(s.id, file);
  });
  diagnosticsOf = typeCheck([...fileOf.values()]);
}, 120_000);

afterAll(() => {
  if (runDir !== '') rmSync(runDir, { recursive: true, force: true });
  try {
    rmdirSync(TMP_PARENT); // only if empty: another run may be using it
  } catch {
    // not empty, or already gone
  }
});

describe('snippet extraction', () => {
  it('finds ts blocks, their lines, indentation and the no-run flag, and skips other languages', () => {
    const md = [
      '# t', // 1
      '```ts', // 2
      "import { tensor } from 'normgrad';", // 3
      '```', // 4
      '```text', // 5
      'not code', // 6
      '```', // 7
      '1. a list', // 8
      '   ```ts no-run', // 9
      '   const x: number = "no";', // 10
      '   ```', // 11
    ].join('\n');
    const found = extractSnippets(md, 'x.md');
    expect(found.map((s) => [s.id, s.noRun])).toEqual([['x.md:2', false], ['x.md:9', true]]);
    expect(found[1]!.code).toBe('const x: number = "no";');
  });

  it('rewrites normgrad and relative imports to absolute paths, and leaves node: imports alone', () => {
    const code = "import { a } from 'normgrad';\nimport { b } from '../src/x.js';\nimport assert from 'node:assert/strict';";
    const out = rewriteImports(code, join(ROOT, 'docs', 'page.md'));
    expect(out).toContain(`from '${INDEX}'`);
    expect(out).toContain(`from '${join(ROOT, 'src', 'x.js')}'`);
    expect(out).toContain("from 'node:assert/strict'");
  });

  it('finds relative links and skips web and in-page links', () => {
    const md = 'see [`a`](../src/a.ts#L3-L9), [b](https://x.org/y), [c](#top) and [d](other.md "title")';
    expect(relativeLinks(md)).toEqual([{ text: '`a`', target: '../src/a.ts#L3-L9' }, { text: 'd', target: 'other.md' }]);
  });

  it('checks that a line link names something in its lines', () => {
    const file = 'line 1\nexport function topologicalOrder() {\n  return [];\n}\n';
    expect(checkLineLink('[`topologicalOrder`]', file, 2, 4)).toBeNull();
    expect(checkLineLink('[`Graph.topologicalOrder`]', file, 2, 2)).toBeNull();
    expect(checkLineLink('[`topologicalOrder`]', file, 3, 4)).toMatch(/do not start at `topologicalOrder`/);
    expect(checkLineLink('[`topologicalOrder`]', file, 1, 4)).toMatch(/do not start at/); // starts one line early
    const commented = '/**\n * Sorts.\n */\nfunction topologicalOrder() {}\n';
    expect(checkLineLink('[`topologicalOrder`]', commented, 1, 4)).toBeNull(); // its doc comment counts
    expect(checkLineLink('[the order]', file, 2, 4)).toMatch(/must name its target in backticks/);
    expect(checkLineLink('[`x`]', file, 4, 9)).toMatch(/lines outside/);
  });

  it('makes GitHub heading anchors, ignoring # lines inside code', () => {
    const md = '# Batch norm: the `backward` pass\n```sh\n# not a heading\n```\n## Why? (1/m)\n## Why? (1/m)';
    expect([...headingSlugs(md)]).toEqual(['batch-norm-the-backward-pass', 'why-1m', 'why-1m-1']);
  });

  it('finds snippets on every docs page', () => {
    const pages = markdownFiles().filter((f) => f.includes(`${join('docs', '')}`) && !f.endsWith('README.md'));
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) {
      const rel = relative(ROOT, page);
      expect(snippets.filter((s) => s.source === rel && !s.noRun).length, `${rel} has no runnable ts block`).toBeGreaterThan(0);
    }
  });
});

describe('source excerpts', () => {
  for (const s of excerpts) {
    it(`${s.id} is still verbatim in ${s.excerptOf}`, () => {
      const file = resolve(dirname(s.markdownFile), s.excerptOf!);
      expect(existsSync(file), `${s.id}: ${s.excerptOf} does not exist`).toBe(true);
      const text = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
      expect(s.code.trim().length).toBeGreaterThan(0);
      expect(text.includes(s.code.trimEnd()), `${s.id}: the quoted code is no longer in ${s.excerptOf}; update the page`).toBe(true);
    });
  }
});

describe('links in the pages', () => {
  for (const file of markdownFiles()) {
    const rel = relative(ROOT, file);
    const links = relativeLinks(readFileSync(file, 'utf8'));
    if (links.length === 0) continue;
    it(`${rel}: every relative link points at an existing file (and line range)`, () => {
      const broken: string[] = [];
      for (const { text, target: link } of links) {
        const [path, anchor = ''] = link.split('#') as [string, string?];
        const target = path.startsWith('/') ? join(ROOT, decodeURI(path)) : resolve(dirname(file), decodeURI(path));
        if (!existsSync(target)) {
          broken.push(`${link}: no such file`);
          continue;
        }
        const lines = /^L(\d+)(?:-L(\d+))?$/.exec(anchor);
        if (anchor !== '' && !lines && target.endsWith('.md') && !headingSlugs(readFileSync(target, 'utf8')).has(anchor)) {
          broken.push(`${link}: no heading '#${anchor}' in ${path}`);
        } else if (lines) {
          const problem = checkLineLink(text, readFileSync(target, 'utf8'), Number(lines[1]), Number(lines[2] ?? lines[1]));
          if (problem !== null) broken.push(`[${text}](${link}): ${problem}`);
        }
      }
      expect(broken, `${rel}`).toEqual([]);
    });
  }
});

describe('documentation snippets', () => {
  for (const s of snippets) {
    if (s.noRun) {
      it(`${s.id} (no-run) fails to type-check, as it says`, () => {
        const diags = diagnosticsOf.get(fileOf.get(s.id)!)!;
        expect(diags.length, `${s.id} is marked no-run but type-checks cleanly`).toBeGreaterThan(0);
        // A block that names its error (`// error TS2554: ...`) must produce exactly that code.
        for (const [, code] of s.code.matchAll(/error (TS\d+)/g)) {
          expect(diags.some((d) => d.includes(`${code}:`)), `${s.id} expects ${code}, got:\n${diags.join('\n')}`).toBe(true);
        }
      });
      continue;
    }
    it(`${s.id} type-checks and runs`, async () => {
      const file = fileOf.get(s.id)!;
      const diags = diagnosticsOf.get(file)!;
      expect(diags, `${s.id} does not type-check`).toEqual([]);
      try {
        await import(pathToFileURL(file).href);
      } catch (err) {
        const e = err as Error;
        e.message = `${s.id}: ${e.message}`;
        throw e;
      }
    });
  }
});
