// Interfaces coming and going, from `ip -o monitor link` lines and rescans of /sys/class/net. Pure:
// the parser, the table of what is present (ifindex -> name), and the debouncer (its timer handed
// in). link-monitor.ts is the adapter that feeds them.
//
// What the kernel tells (lines captured here, test/fixtures/ip-monitor-link.txt):
//   `40: up0@sim2868: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 … state DOWN … \    link/ether 32:fd:…`
//   `Deleted 40: up0@NONE: <…> … \    link/ether …`                     (gone)
//   `Deleted 39: sim2868@up0: <…> … new-netns world new-ifindex 39`     (moved to another netns: gone here)
// A rename (udev naming a new dongle `up0`, or `ip link set … name`) is no deletion: the same
// ifindex comes with another name. A dongle plugged back is a new device: a new ifindex.

export interface LinkMessage {
  ifindex: number;
  name: string;
  /** Gone from this netns (removed, or moved to another netns). */
  deleted: boolean;
  flags: string[];
  /** Kernel operstate (UP, DOWN, LOWERLAYERDOWN, UNKNOWN …), when the line has one. */
  operstate?: string;
  mac?: string;
}

const LINE = /^(Deleted )?(\d+): ([^\s@:]+)(?:@[^\s:]*)?: <([^>]*)>(.*)$/;

/** One line of `ip -o monitor link` (or `ip -o link show`); undefined for anything else. */
export function parseMonitorLine(line: string): LinkMessage | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  const rest = m[5]!;
  const operstate = / state (\S+)/.exec(rest)?.[1];
  const mac = /link\/ether ([0-9a-f:]{17})/i.exec(rest)?.[1]?.toLowerCase();
  return {
    ifindex: Number(m[2]), name: m[3]!, deleted: m[1] !== undefined, flags: m[4] ? m[4].split(',') : [],
    ...(operstate ? { operstate } : {}), ...(mac ? { mac } : {}),
  };
}

/** What is present now: ifindex -> name. */
export type LinkTable = ReadonlyMap<number, string>;

/** A name that appeared (with its ifindex) or vanished. */
export interface LinkChange { name: string; present: boolean; ifindex?: number }

/** The table after one message, and what changed by name. */
export function applyMessage(table: LinkTable, m: LinkMessage): { table: LinkTable; changes: LinkChange[] } {
  const next = new Map(table);
  const changes: LinkChange[] = [];
  const before = table.get(m.ifindex);
  if (m.deleted) {
    if (before === undefined) return { table, changes };
    next.delete(m.ifindex);
    return { table: next, changes: [{ name: before, present: false }] };
  }
  if (before === m.name) return { table, changes };
  // Renamed: the old name is gone.
  if (before !== undefined) changes.push({ name: before, present: false });
  // The name on another ifindex (a delete we never saw): that one is gone too.
  for (const [i, n] of table) if (n === m.name && i !== m.ifindex) next.delete(i);
  next.set(m.ifindex, m.name);
  changes.push({ name: m.name, present: true, ifindex: m.ifindex });
  return { table: next, changes };
}

/** The table is what a scan saw; the changes are what the scan shows that the table did not know. */
export function applyScan(table: LinkTable, scan: { name: string; ifindex: number }[]): { table: LinkTable; changes: LinkChange[] } {
  const next = new Map(scan.map((s) => [s.ifindex, s.name] as const));
  const byName = (t: LinkTable) => new Map([...t].map(([i, n]) => [n, i] as const));
  const was = byName(table);
  const now = byName(next);
  const changes: LinkChange[] = [];
  for (const [name, i] of was) if (now.get(name) !== i) changes.push({ name, present: false });
  for (const [name, i] of now) if (was.get(name) !== i) changes.push({ name, present: true, ifindex: i });
  return { table: next, changes };
}

/** Where a name ended up after a burst: present with this ifindex, or absent. */
export interface LinkState { name: string; present: boolean; ifindex?: number }

const same = (a: LinkState | undefined, b: LinkState) => a !== undefined && a.present === b.present && a.ifindex === b.ifindex;

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/**
 * Collects changes per name and reports where each name ended up once it has been quiet for
 * `quietMs`: a dongle that flaps (gone and back within the window) is one report, and only when its
 * state differs from the last one reported (a new ifindex counts: it is a new device that lost
 * whatever was set on the old one). Names reported without a change before (first sight) count.
 */
export class LinkDebouncer {
  private pending = new Map<string, { state: LinkState; timer: unknown }>();
  private reported = new Map<string, LinkState>();

  constructor(private readonly quietMs: number, private readonly timers: Timers, private readonly report: (s: LinkState) => void) {}

  /** Marks where names stand without reporting (the first scan: the starting point). */
  baseline(states: LinkState[]): void {
    for (const s of states) this.reported.set(s.name, s);
  }

  push(changes: LinkChange[]): void {
    for (const c of changes) {
      const p = this.pending.get(c.name);
      if (p) this.timers.clear(p.timer);
      const state: LinkState = c.present ? { name: c.name, present: true, ifindex: c.ifindex } : { name: c.name, present: false };
      this.pending.set(c.name, { state, timer: this.timers.set(() => this.settle(c.name), this.quietMs) });
    }
  }

  /** Drops what is pending (shutdown). */
  clear(): void {
    for (const p of this.pending.values()) this.timers.clear(p.timer);
    this.pending.clear();
  }

  private settle(name: string): void {
    const p = this.pending.get(name);
    if (!p) return;
    this.pending.delete(name);
    // Gone and back within the window is a new ifindex (the kernel does not hand one out again soon).
    if (same(this.reported.get(name), p.state)) return;
    this.reported.set(name, p.state);
    this.report(p.state);
  }
}
