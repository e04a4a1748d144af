// Lines of a lab's Quagga or FRR configuration that FRR 8.4 (Debian bookworm's, in
// dovelab/router) does not know. A daemon that reads one logs "No such command on config line N"
// and runs without it; vtysh -b (frr.conf) prints "Unknown command" and goes on. Checked on the
// image: each pattern below was refused by the daemon that reads it, and FRR accepts Quagga's
// `password`, `enable password`, `log file`, `no synchronization`, `no auto-summary`, `link-detect`,
// `ip ospf …` and the other debug lines as they are. Pure: the caller hands in the files' text.

export type FrrGapKind = 'debug' | 'gone' | 'changed';

interface Rule { kind: FrrGapKind; re: RegExp; block?: RegExp; instead?: string }

/** Top-level lines unless `block` names the `router …` block an indented line must be in. */
const RULES: Rule[] = [
  { kind: 'debug', re: /^debug bgp$/, instead: 'debug bgp neighbor-events, debug bgp updates' },
  { kind: 'debug', re: /^debug bgp (events|fsm)$/, instead: 'debug bgp neighbor-events' },
  { kind: 'debug', re: /^debug bgp filters$/ },
  { kind: 'debug', re: /^debug rip packet (recv|send) detail$/, instead: 'debug rip packet recv, debug rip packet send' },
  { kind: 'gone', re: /^bgp multiple-instance$/ },
  { kind: 'gone', re: /^bgp config-type \S+$/ },
  { kind: 'gone', re: /^log trap\b/, instead: 'log file FILE LEVEL' },
  { kind: 'gone', re: /^smux peer\b/ },
  { kind: 'changed', re: /^ip as-path access-list\b/, instead: 'bgp as-path access-list' },
  { kind: 'changed', re: /^router-id\s+\S+$/, block: /^router ospf6\b/, instead: 'ospf6 router-id (in router ospf6)' },
];

export interface FrrGap { kind: FrrGapKind; line: string; instead?: string }

/** The lines of one config file FRR 8.4 does not know, in file order (each distinct line once). */
export function unknownFrrLines(text: string): FrrGap[] {
  const out: FrrGap[] = [];
  let block = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+$/, '');
    if (!line.trim() || /^\s*[!#]/.test(line)) continue;
    const indented = /^\s/.test(line);
    if (!indented) block = line;
    const code = line.trim();
    const rule = RULES.find((r) => (r.block ? indented && r.block.test(block) : !indented) && r.re.test(code));
    if (rule && !out.some((g) => g.line === code)) out.push({ kind: rule.kind, line: code, ...(rule.instead ? { instead: rule.instead } : {}) });
  }
  return out;
}

/** Router config files whose lines are checked: FRR's and Quagga's per-daemon files and frr.conf. */
export const isRouterConfig = (inHost: string) => /^\/etc\/(frr|quagga)\/[a-z0-9]+\.conf$/.test(inHost) && !/\/vtysh\.conf$/.test(inHost);

const WHAT: Record<FrrGapKind, string> = {
  debug: 'Quagga debug lines FRR 8.4 (dovelab/router) does not have: the daemons log "No such command" and run without them (only their debug output is missing)',
  gone: 'Quagga commands FRR 8.4 (dovelab/router) no longer has: the daemons log "No such command" and run without them (no effect on routing)',
  changed: 'router config lines FRR 8.4 (dovelab/router) writes differently: the daemons skip them ("No such command"), so what they configure is missing until the config says it FRR\'s way',
};

/**
 * One report line per kind: the distinct lines, FRR's way where there is one, and where they are
 * (host: file). `files` is host -> config path in the host -> text.
 */
export function frrGapWarnings(files: Record<string, Record<string, string>>): string[] {
  const byKind = new Map<FrrGapKind, { lines: Map<string, string | undefined>; where: Map<string, string[]> }>();
  for (const [h, confs] of Object.entries(files)) {
    for (const [path, text] of Object.entries(confs)) {
      for (const g of unknownFrrLines(text)) {
        const k = byKind.get(g.kind) ?? { lines: new Map(), where: new Map() };
        k.lines.set(g.line, g.instead);
        k.where.set(path, [...new Set([...(k.where.get(path) ?? []), h])]);
        byKind.set(g.kind, k);
      }
    }
  }
  return (['changed', 'gone', 'debug'] as FrrGapKind[]).filter((kind) => byKind.has(kind)).map((kind) => {
    const k = byKind.get(kind)!;
    const lines = [...k.lines].map(([l, instead]) => `\`${l}\`${instead ? ` (FRR: ${instead})` : ''}`).join(', ');
    const where = [...k.where].map(([p, hs]) => `${hs.join(', ')}: ${p}`).join('; ');
    return `${WHAT[kind]}: ${lines} (${where})`;
  });
}
