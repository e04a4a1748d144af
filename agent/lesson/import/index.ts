// `dovelab lesson import`: a Kathará lab or a containerlab topology -> a Dovelab lesson pack
// (lesson.yaml, README.md, files/). importLab decides and validates; writePack writes atomically.
import { constants, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, normalize, resolve } from 'node:path';
import { LessonError, parseTopology } from '../load.js';
import { importContainerlab } from './containerlab.js';
import { dropClashes, lessonYaml, reachTasks, validate } from './finish.js';
import { importKathara } from './kathara.js';
import { renderReadme } from './readme.js';
import { addressesFromRouterConfigs } from './routercfg.js';
import { frrGapWarnings, isRouterConfig } from './frrlines.js';
import { ROUTER } from './images.js';
import { mergeByReason, mergeWarnings, reviewHosts } from './review.js';
import { ImportError, type DraftHost, type Imported, type ImportOptions, type LessonDraft, type NotConverted, type PackFile, type SourceFormat } from './types.js';

export { ImportError } from './types.js';
export type { ImportOptions, NotConverted, PackFile, SourceFormat } from './types.js';
export { parseLabConf } from './kathara.js';

export interface ImportResult extends Imported {
  /** The content of lesson.yaml (validated). */
  lesson: LessonDraft;
  files: PackFile[];
  readme: string;
  warnings: string[];
  notConverted: NotConverted[];
}

const CLAB = /\.clab\.ya?ml$/;

/** Which importer reads `path`, and the file it reads: a folder with lab.conf, a lab.conf, a *.clab.yml (or a folder with exactly one). */
export function detectFormat(path: string): { format: SourceFormat; file: string } {
  if (!existsSync(path)) throw new ImportError(path, undefined, 'no such file or folder');
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, 'lab.conf'))) return { format: 'kathara', file: join(path, 'lab.conf') };
    const clabs = readdirSync(path).filter((f) => CLAB.test(f));
    if (clabs.length === 1) return { format: 'containerlab', file: join(path, clabs[0]!) };
    throw new ImportError(path, undefined, clabs.length
      ? `several containerlab topologies here (${clabs.join(', ')}): name one`
      : 'not a Kathará lab (no lab.conf) nor a folder with a containerlab topology (*.clab.yml)');
  }
  if (basename(path) === 'lab.conf') return { format: 'kathara', file: path };
  if (CLAB.test(path)) return { format: 'containerlab', file: path };
  throw new ImportError(path, undefined, 'expected a Kathará lab folder or its lab.conf, or a containerlab topology *.clab.yml / *.clab.yaml');
}

/** Converts a lab; the lesson is validated like `dovelab lesson validate` would. Throws ImportError. */
export function importLab(path: string, opts: ImportOptions = {}): ImportResult {
  if (opts.id !== undefined && !/^[a-z0-9-]+$/.test(opts.id)) throw new ImportError(path, undefined, `lesson id "${opts.id}": lowercase letters, digits and dashes`);
  const { format, file } = detectFormat(path);
  const imported = format === 'kathara' ? importKathara(file, opts) : importContainerlab(file, opts);
  imported.warnings.push(...routerAddresses(imported), ...frrGaps(imported));
  const review = reviewHosts(imported.lesson);
  if (!Object.keys(imported.lesson.hosts).length) {
    const why = mergeByReason([...imported.notConverted, ...review.notConverted]).map((n) => `  ${n.what}: ${n.why}`).join('\n');
    throw new ImportError(file, undefined, `nothing in it can run in Dovelab (lab hosts are Linux containers):${why ? `\n${why}` : ' it has no devices'}`);
  }
  const notConverted = mergeByReason([...imported.notConverted, ...review.notConverted, ...dropClashes(imported.lesson, basename(file))]);
  const { networks, hosts, defaults, ...head } = imported.lesson;
  const lesson: LessonDraft = { ...head, networks, hosts: tidyHosts(hosts), ...(defaults ? { defaults } : {}) };
  delete lesson.tasks;
  const tasks = reachTasks(lesson);
  if (tasks.length) lesson.tasks = tasks;
  const warnings = mergeWarnings([...imported.warnings, ...review.warnings]);
  if (Object.values(lesson.hosts).some((h) => h.startup && Object.values(h.interfaces).some((i) => i.ip))) {
    warnings.push('addresses set by the startup scripts are the interfaces\' ip: in the lesson, so Dovelab sets them before the startup runs; '
      + 'the scripts still set them too and may print "File exists", which is harmless');
  }
  try { validate(lesson, `${file} (converted)`); } catch (e) {
    if (!(e instanceof LessonError)) throw e;
    throw new ImportError(file, undefined, `the converted lesson is not valid:\n${e.message}`);
  }
  const result = { ...imported, lesson, warnings, notConverted };
  return { ...result, readme: renderReadme(result, lesson) };
}

/** Interface addresses from the FRR/Quagga configs the routers ship (routercfg.ts); one warning naming them. */
function routerAddresses(imported: Imported): string[] {
  const source = new Map(imported.files.map((f) => [f.to, f.from]));
  const set: string[] = [];
  for (const [h, host] of Object.entries(imported.lesson.hosts)) {
    const read = (inHost: string) => {
      const from = source.get(host.files?.[inHost] ?? '');
      try { return from ? readFileSync(from, 'utf8') : undefined; } catch { return undefined; }
    };
    const ifaces = addressesFromRouterConfigs(host, read);
    if (ifaces.length) set.push(`${h} (${ifaces.join(', ')})`);
  }
  return set.length ? [`addresses the routers' FRR/Quagga configs give (interface … ip address) are the interfaces' ip: in the lesson: ${set.join(', ')}`] : [];
}

/** Lines of the routers' shipped FRR/Quagga configs that FRR 8.4 does not know (frrlines.ts), one warning per kind. */
function frrGaps(imported: Imported): string[] {
  const source = new Map(imported.files.map((f) => [f.to, f.from]));
  const files: Record<string, Record<string, string>> = {};
  for (const [h, host] of Object.entries(imported.lesson.hosts)) {
    if (host.image !== ROUTER) continue;
    for (const [inHost, to] of Object.entries(host.files ?? {})) {
      const from = source.get(to);
      if (!from || !isRouterConfig(inHost)) continue;
      try { (files[h] ??= {})[inHost] = readFileSync(from, 'utf8'); } catch { /* copied or reported by the importer */ }
    }
  }
  return frrGapWarnings(files);
}

/** Hosts with their keys in reading order: image, interfaces (network, ip, mac, gateway), sysctl, files, startup. */
function tidyHosts(hosts: Record<string, DraftHost>): Record<string, DraftHost> {
  const tidy = <T extends object>(o: T, order: (keyof T)[]) => Object.fromEntries(order.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as T;
  return Object.fromEntries(Object.entries(hosts).map(([h, host]) => [h, tidy({
    ...host,
    interfaces: Object.fromEntries(Object.entries(host.interfaces).map(([i, iface]) => [i, tidy(iface, ['network', 'ip', 'mac', 'gateway'])])),
  }, ['image', 'interfaces', 'sysctl', 'files', 'startup'])]));
}

/** The source's name for people: the lab folder of a lab.conf, the file name of a topology. */
export const sourceName = (r: Pick<Imported, 'format' | 'source'>) => basename(r.format === 'kathara' ? dirname(r.source) : r.source);

/** lesson.yaml as written: a header comment, then the lesson. */
export function lessonText(result: ImportResult): string {
  const from = result.format === 'kathara' ? 'Kathará lab' : 'containerlab topology';
  return `# Dovelab lesson imported from the ${from} ${sourceName(result)} by \`dovelab lesson import\`.\n`
    + '# README.md says what changed on the way and what was not converted.\n'
    + lessonYaml(result.lesson);
}

/**
 * Writes the pack into `outDir` (which must not exist or be empty): built in a temporary folder
 * next to it, then renamed into place, so a failed import leaves nothing half-written.
 */
export function writePack(result: ImportResult, outDir: string): { dir: string; files: number } {
  const out = resolve(outDir);
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new ImportError(out, undefined, 'exists and is not a folder: refusing to overwrite it');
    if (readdirSync(out).length) throw new ImportError(out, undefined, 'is not empty: refusing to overwrite it (choose a new folder, or empty this one)');
  }
  const text = lessonText(result);
  parseTopology(text, join(out, 'lesson.yaml'));
  mkdirSync(dirname(out), { recursive: true });
  const tmp = mkdtempSync(join(dirname(out), `.${basename(out)}.import-`));
  try {
    writeFileSync(join(tmp, 'lesson.yaml'), text);
    writeFileSync(join(tmp, 'README.md'), result.readme);
    for (const f of result.files) {
      const to = normalize(f.to);
      if (!to.startsWith('files/') || to.split('/').includes('..')) throw new ImportError(f.from, undefined, `pack path ${f.to} is outside files/`);
      // The importer checked each source; one that became something else since (a link) is not copied.
      let st;
      try { st = lstatSync(f.from); } catch { throw new ImportError(f.from, undefined, 'disappeared while importing'); }
      if (!st.isFile()) throw new ImportError(f.from, undefined, 'is no longer a regular file (changed while importing): not copied');
      mkdirSync(dirname(join(tmp, to)), { recursive: true });
      copyFileSync(f.from, join(tmp, to), constants.COPYFILE_EXCL);
    }
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dir: out, files: result.files.length };
}

/** One paragraph for the CLI after an import. */
export function importSummary(result: ImportResult, dir?: string): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const l = result.lesson;
  return [
    `${result.format === 'kathara' ? 'Kathará lab' : 'containerlab topology'} ${result.source} -> lesson "${l.id}"${dir ? ` in ${dir}` : ''}:`,
    `  ${count(Object.keys(l.hosts).length, 'host')}, ${count(Object.keys(l.networks).length, 'network')}, ${count(l.tasks?.length ?? 0, 'task')}, ${count(result.files.length, 'file')}`,
    ...result.warnings.map((w) => `  warning: ${w}`),
    ...result.notConverted.map((n) => `  not converted: ${n.what} (${n.where}): ${n.why}`),
  ].join('\n');
}
