// The last steps every import shares: drop what the lesson format refuses (clashing addresses,
// MACs, gateways), add reach tasks so the lab has something to check, and validate the result.
import { stringify } from 'yaml';
import { crossCheck, parseTopology } from '../load.js';
import { TopologySchema, type Topology } from '../schema.js';
import { serviceTasks } from './services.js';
import type { LessonDraft, NotConverted, TaskDraft } from './types.js';

export const MAX_TASKS = 10;

/** The draft as lesson.yaml text (without the header comment). */
export const lessonYaml = (lesson: LessonDraft) => stringify(lesson, { lineWidth: 0 });

const FIXABLE = /^hosts\.([^.]+)\.interfaces\.([^.]+)\.(ip|mac|gateway)$/;

/**
 * Removes interface settings that the lesson's cross-field rules refuse (a duplicate address on a
 * network, a duplicate or multicast MAC, a gateway without a usable address), one at a time, each
 * into notConverted. Other problems are left for validation to report.
 */
export function dropClashes(lesson: LessonDraft, source: string): NotConverted[] {
  const dropped: NotConverted[] = [];
  for (let round = 0; round < 100; round++) {
    const parsed = TopologySchema.safeParse(lesson);
    if (!parsed.success) return dropped;
    const fix = crossCheck(parsed.data).map((p) => ({ p, m: FIXABLE.exec(p.path) })).find((x) => x.m);
    if (!fix?.m) return dropped;
    const [, h, i, field] = fix.m as unknown as [string, string, string, 'ip' | 'mac' | 'gateway'];
    const iface = lesson.hosts[h]?.interfaces[i];
    if (!iface) return dropped;
    dropped.push({ what: `${field} ${iface[field]} of ${h}.${i}`, where: source, why: `${fix.p.message}; left out of the lesson (the startup script is unchanged)` });
    delete iface[field];
  }
  return dropped;
}

const ipNum = (ip: string) => ip.split('.').reduce((v, o) => v * 256 + Number(o), 0);
function sameSubnet(a: string, b: string): boolean {
  const [x, p] = a.split('/'); const [y, q] = b.split('/');
  if (p !== q) return false;
  const size = 2 ** (32 - Number(p));
  return Math.floor(ipNum(x!) / size) === Math.floor(ipNum(y!) / size);
}

/**
 * Tasks that check the lab works as its author meant: one per pair of hosts that share a network
 * with static addresses in one subnet (`reach-a-b`, "a reaches b"), and one per pair of hosts
 * with a gateway and no subnet in common (end to end, across the routers). In host order, at most
 * MAX_TASKS, of which up to half are end to end when there are any. Servers the startups start
 * (web, DNS) come first in the budget: a client's TCP connection to each (import/services.ts).
 */
export function reachTasks(lesson: LessonDraft): TaskDraft[] {
  const services = serviceTasks(lesson).slice(0, MAX_TASKS / 2);
  const room = MAX_TASKS - services.length;
  const neighbours = neighbourTasks(lesson);
  const ends = endToEndTasks(lesson);
  const e2e = Math.min(ends.length, Math.max(room - neighbours.length, Math.floor(room / 2)));
  return [...neighbours.slice(0, room - e2e), ...ends.slice(0, e2e), ...services];
}

/** Pairs of hosts that each have a default gateway and share no subnet: client -> server across routers. */
function endToEndTasks(lesson: LessonDraft): TaskDraft[] {
  const routed = Object.entries(lesson.hosts).filter(([, h]) => Object.values(h.interfaces).some((i) => i.ip && i.gateway));
  const tasks: TaskDraft[] = [];
  for (let x = 0; x < routed.length; x++) {
    for (let y = x + 1; y < routed.length; y++) {
      const [a, ha] = routed[x]!; const [b, hb] = routed[y]!;
      const near = Object.values(ha.interfaces).some((ia) => ia.ip && Object.values(hb.interfaces).some((ib) => ib.ip && sameSubnet(ia.ip!, ib.ip)));
      if (near) continue;
      tasks.push({ id: `reach-${a}-${b}`, title: `${a} reaches ${b} across the routers`, check: { reach: { from: a, to: b } } });
      if (tasks.length === MAX_TASKS) return tasks;
    }
  }
  return tasks;
}

function neighbourTasks(lesson: LessonDraft): TaskDraft[] {
  const hosts = Object.entries(lesson.hosts);
  const tasks: TaskDraft[] = [];
  for (let x = 0; x < hosts.length; x++) {
    for (let y = x + 1; y < hosts.length; y++) {
      const [a, ha] = hosts[x]!; const [b, hb] = hosts[y]!;
      const shared = Object.values(ha.interfaces).some((ia) => ia.ip && Object.values(hb.interfaces)
        .some((ib) => ib.ip && ib.network === ia.network && sameSubnet(ia.ip!, ib.ip)));
      if (!shared) continue;
      tasks.push({ id: `reach-${a}-${b}`, title: `${a} reaches ${b}`, check: { reach: { from: a, to: b } } });
      if (tasks.length === MAX_TASKS) return tasks;
    }
  }
  return tasks;
}

/** Validates the draft exactly as `dovelab lesson validate` would read it; throws LessonError. */
export function validate(lesson: LessonDraft, file: string): Topology {
  return parseTopology(lessonYaml(lesson), file);
}
