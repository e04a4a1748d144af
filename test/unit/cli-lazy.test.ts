// `dovelab --help` loads commander and the verbs' registration only (issue 13: a CLI call stays
// small): the modules each verb uses load when it runs. Seen through a module loader hook that
// names every ES module the process loads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const CLI = fileURLToPath(new URL('../../agent/cli.js', import.meta.url));

/** The file: URLs of the ES modules `node cli.js …args` loads. */
function modulesLoadedBy(args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-cli-lazy-'));
  try {
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(hooks, `export async function load(url, ctx, next) { if (url.startsWith('file:')) process.stderr.write('LOADED ' + url + '\\n'); return next(url, ctx); }\n`);
    const reg = join(dir, 'register.mjs');
    writeFileSync(reg, `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(reg).href, CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 0, `dovelab ${args.join(' ')}: ${r.stderr.slice(-500)}`);
    return r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

const pkg = (urls: string[], name: string) => urls.some((u) => u.includes(`/node_modules/${name}/`));

test('dovelab --help: commander, no zod, yaml, Docker client or lab module', () => {
  const m = modulesLoadedBy(['--help']);
  assert.ok(pkg(m, 'commander'), 'the hook sees what loads');
  for (const name of ['zod', 'yaml', 'dockerode', 'tar', 'yauzl']) assert.not.ok(pkg(m, name), `${name} loaded for --help`);
  assert.not.ok(m.some((u) => /\/agent\/(config|lab\/|lesson\/|docker\/|hardware\/|web\/)/.test(u)), m.filter((u) => u.includes('/agent/')).join('\n'));
});

test('dovelab lesson schema: zod and the lesson schema load when the verb runs (the hook sees them)', () => {
  const m = modulesLoadedBy(['lesson', 'schema']);
  assert.ok(pkg(m, 'zod'));
  assert.ok(m.some((u) => u.endsWith('/agent/lesson/schema.js')));
  assert.not.ok(pkg(m, 'tar') || pkg(m, 'yauzl'), 'no archive code for the schema');
});

test.run();
