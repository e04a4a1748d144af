// Reads and validates a lesson topology file; errors name the file, the path and the reason.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { TopologySchema, type Topology } from './schema.js';

export class LessonError extends Error {
  constructor(readonly file: string, readonly problems: { path: string; message: string }[]) {
    super(problems.map((p) => `${file}: ${p.path || '(top)'}: ${p.message}`).join('\n'));
  }
}

export function lessonFile(path: string): string {
  return statSync(path).isDirectory() ? join(path, 'lesson.yaml') : path;
}

export function parseTopology(text: string, file: string): Topology {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) {
    throw new LessonError(file, doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0] ?? '' })));
  }
  const parsed = TopologySchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new LessonError(file, zodProblems(parsed.error.issues));
  }
  const problems = crossCheck(parsed.data);
  if (problems.length) throw new LessonError(file, problems);
  return parsed.data;
}

interface ZodIssueLike { path: PropertyKey[]; message: string; code?: string; issues?: ZodIssueLike[] }

/** zod issues -> path + reason; a bad record key reports why the key is bad. */
export function zodProblems(issues: readonly ZodIssueLike[]): { path: string; message: string }[] {
  return issues.map((i) => {
    const inner = i.code === 'invalid_key' ? i.issues?.[0]?.message : undefined;
    return { path: i.path.map(String).join('.'), message: inner ?? i.message };
  });
}

/** Rules that span fields (references, clashes). */
export function crossCheck(t: Topology): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const [h, host] of Object.entries(t.hosts)) {
    for (const [i, iface] of Object.entries(host.interfaces)) {
      if (!(iface.network in t.networks)) {
        out.push({ path: `hosts.${h}.interfaces.${i}.network`, message: `unknown network "${iface.network}" (known: ${Object.keys(t.networks).join(', ') || 'none'})` });
      }
    }
  }
  const vids = new Map<number, string>();
  for (const [n, net] of Object.entries(t.networks)) {
    if (net.vlan === undefined) continue;
    const other = vids.get(net.vlan);
    if (other) out.push({ path: `networks.${n}.vlan`, message: `VLAN ${net.vlan} is already used by network "${other}"` });
    vids.set(net.vlan, n);
  }
  return out;
}

export function loadTopology(path: string): Topology {
  const file = lessonFile(path);
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw new LessonError(file, [{ path: '', message: `cannot read: ${(e as Error).message}` }]);
  }
  return parseTopology(text, file);
}
