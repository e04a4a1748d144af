// Processes of the appliance (its /proc): what a terminal's shell left behind, found and killed.
// Closing a Docker exec does not stop what the user started in it (DESIGN §5).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcEntry { pid: number; ppid: number; pgrp: number; session: number }

/** One line of /proc/<pid>/stat: `pid (comm) state ppid pgrp session …`; comm may hold spaces and ')'. */
export function parseStat(line: string): ProcEntry | undefined {
  const close = line.lastIndexOf(')');
  const pid = Number.parseInt(line, 10);
  if (close < 0 || !Number.isInteger(pid)) return undefined;
  const f = line.slice(close + 2).split(' ');
  const [ppid, pgrp, session] = [f[1], f[2], f[3]].map(Number);
  if (![ppid, pgrp, session].every(Number.isInteger)) return undefined;
  return { pid, ppid: ppid!, pgrp: pgrp!, session: session! };
}

export function processTable(proc = '/proc'): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const d of readdirSync(proc)) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const e = parseStat(readFileSync(`${proc}/${d}/stat`, 'utf8'));
      if (e) out.push(e);
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/**
 * `root` and everything that belongs to it: its descendants, and every process of the session and
 * process groups it leads (a job the shell put in its own group, a daemon that double-forked but
 * kept the session). Pure. Never includes pid 1 or the caller.
 */
export function treeOf(table: ProcEntry[], root: number, self = process.pid): number[] {
  const found = new Set<number>([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of table) {
      if (found.has(p.pid)) continue;
      if (found.has(p.ppid) || p.session === root || p.pgrp === root) { found.add(p.pid); grew = true; }
    }
  }
  found.delete(1);
  found.delete(self);
  return [...found];
}

/** SIGKILLs `root` and what belongs to it (see treeOf); returns the pids signalled. */
export function killTree(root: number): number[] {
  if (!Number.isInteger(root) || root <= 1) return [];
  const pids = treeOf(processTable(), root);
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  return pids;
}
