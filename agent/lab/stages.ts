// The diff's actions -> the stages the engine runs them in. Pure.
//
// The diff orders actions by kind for reasons that matter (removals before adds, startups after the
// network is up; the engine runs the Faucet reload beside the hosts' stage). Within that order, what makes a host
// (create-host, then its attaches) depends only on that host: so that run of the list becomes one
// chain per host, each going on as soon as its own previous step is done, hosts in parallel, instead
// of every create waiting for all creates and every attach for all attaches. Everything else stays a
// barrier phase of one kind, as before.
import type { Action } from './diff.js';

/** One host's steps, in order; the actions of one step run in parallel (a host's interfaces). */
export interface Chain { container: string; steps: Action[][] }

export type Stage =
  /** Actions of one kind, in parallel; the next stage starts when all are done. */
  | { kind: 'phase'; actions: Action[] }
  /** Per-host chains, in parallel; the next stage starts when all are done. */
  | { kind: 'chains'; chains: Chain[] };

const CHAINED = new Set<Action['kind']>(['create-host', 'attach']);

/** The container an action makes or wires, for the chained kinds. */
const containerOf = (a: Action): string | undefined =>
  a.kind === 'create-host' ? a.host.container : a.kind === 'attach' ? a.port.container : undefined;

/**
 * Stages for `actions` (in the diff's order). A contiguous run of create-host, attach and warn
 * actions becomes: its warnings (one phase, first), then one chains stage. A host's chain is its
 * create-host (if it is made now), then all its attaches together. An attach that comes before its
 * host's create-host in the list (the diff never does that) keeps the plain phases: no reordering
 * that the list does not allow. All other actions: phases of consecutive actions of one kind.
 */
export function stages(actions: Action[]): Stage[] {
  const out: Stage[] = [];
  const phase = (a: Action) => {
    const last = out[out.length - 1];
    if (last?.kind === 'phase' && last.actions[0]!.kind === a.kind) last.actions.push(a);
    else out.push({ kind: 'phase', actions: [a] });
  };
  for (let i = 0; i < actions.length;) {
    let j = i;
    while (j < actions.length && (CHAINED.has(actions[j]!.kind) || actions[j]!.kind === 'warn')) j++;
    const run = actions.slice(i, j);
    const chained = run.filter((a) => CHAINED.has(a.kind));
    const chains = chained.length ? chainsOf(chained) : undefined;
    if (chains) {
      for (const a of run) if (a.kind === 'warn') phase(a);
      out.push({ kind: 'chains', chains });
      i = j;
    } else if (run.length) {
      for (const a of run) phase(a);
      i = j;
    } else {
      phase(actions[i]!);
      i++;
    }
  }
  return out;
}

/** One chain per container (in first-seen order), or undefined if the run cannot be chained safely. */
function chainsOf(run: Action[]): Chain[] | undefined {
  const byHost = new Map<string, { create?: Action; attaches: Action[] }>();
  for (const a of run) {
    const c = containerOf(a)!;
    const entry = byHost.get(c) ?? { attaches: [] };
    byHost.set(c, entry);
    if (a.kind === 'create-host') {
      // Made twice, or after one of its own attaches: not the diff's shape; keep the plain order.
      if (entry.create || entry.attaches.length) return undefined;
      entry.create = a;
    } else entry.attaches.push(a);
  }
  return [...byHost].map(([container, e]) => ({
    container,
    steps: [...(e.create ? [[e.create]] : []), ...(e.attaches.length ? [e.attaches] : [])],
  }));
}
