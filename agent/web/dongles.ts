// The console's Dongles section: GET /api/instructor/hardware (the NIC scan, the roles, what the
// running agent uses) and POST /api/instructor/dongle-role (change or remove a dongle's role in the
// appliance config). A change is planned first (hardware/role-change.ts: refused when it would take
// a dongle the running lesson or a Docker network uses), then written (comments kept, atomic), the
// .link files rewritten (hardware.link_dir), present dongles renamed (when the agent may), and the
// running agent's dongles map replaced in place: cfg is one object shared by the web side, the lab
// context and the agent's hotplug, which all read cfg.dongles when they need it, so the next
// `up`, status, mirror or replug sees the new roles without a restart. All under the lab lock, so
// no `up` or repair runs halfway through the change.
import { existsSync, readFileSync } from 'node:fs';
import type { Context, Hono } from 'hono';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, HardwareSchema, loadConfig, paths, type Config, type HardwareConfig } from '../config.js';
import { editDongleConfig, updateDongleConfig, type DongleChange } from '../hardware/dongle-config.js';
import { linkFiles, writeLinkFiles } from '../hardware/links.js';
import { scanNics } from '../hardware/nics.js';
import { hardwareReport } from '../hardware/report.js';
import { planRoleChange, type DongleUse } from '../hardware/role-change.js';
import { applyDiscovery, defaultName, matchText, roleOfDefaultName } from '../hardware/roles.js';
import { readNetworkState } from '../lab/network-state.js';
import { applianceDesired, withLabLock } from '../lab/service.js';
import { readLabState } from '../lab/state.js';
import type { ApiError, DongleRoleResult, HardwareView } from './api-types.js';
import type { WebDeps } from './deps.js';
export type { DongleRolesDeps } from './deps.js';
import { TokenBuckets } from './rate-limit.js';

/** Role changes: 10 at once per client address, then one more every 3 s (each one rewrites files on the SD card). */
const CHANGE_BURST = 10;
const CHANGE_REFILL_MS = 3_000;
const noStore = { 'Cache-Control': 'no-store' };
const fail = (c: Context, status: 400 | 409 | 429 | 500, error: string, headers: Record<string, string> = {}) => c.json<ApiError>({ error }, status, headers);

const Match = z.union([
  z.strictObject({ usbPath: z.string().regex(/^\d+-\d+(\.\d+)*$/, 'a USB port like 1-1.2') }),
  z.strictObject({ mac: z.string().regex(/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/, 'a MAC address like 00:e0:4c:68:00:01') }),
], { error: 'expected {"usbPath": "1-1.2"} or {"mac": "00:e0:4c:68:00:01"}' });
const RoleBody = z.union([
  z.strictObject({
    match: Match,
    role: z.enum(['uplink', 'mirror', 'lab', 'unused'], { error: (i) => `expected uplink, mirror, lab or unused${i.input === undefined ? '' : `, got ${JSON.stringify(i.input)}`}` }),
    name: z.string().max(15).optional(),
  }),
  z.strictObject({ match: Match, remove: z.literal(true) }),
]);

/** The first problem of a request body, naming its field. */
function bodyProblem(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'expected JSON {"match": {"usbPath"|"mac": …}, "role": "uplink|mirror|lab|unused", "name"?: …} or {"match": …, "remove": true}';
  const r = raw as Record<string, unknown>;
  // One of the union's branches by what the body says it is, so the message is that branch's.
  const branch = 'remove' in r ? RoleBody.options[1] : RoleBody.options[0];
  const parsed = branch.safeParse(raw);
  if (parsed.success) return undefined;
  const i = parsed.error.issues[0]!;
  return `${i.path.join('.') || 'body'}: ${i.message}`;
}

/** Dongles that something running uses now: the lesson's uplinks and mirrors, the Docker networks'. */
export function dongleUses(cfg: Config): DongleUse[] {
  const desired = applianceDesired(cfg);
  const st = readLabState(paths(cfg).labState);
  const lesson = st ? `the running lesson "${st.topology.title ?? st.lab}" (${st.lab})` : 'the running lesson';
  let networks: { name: string; uplinks: string[] }[] = [];
  try { networks = readNetworkState(paths(cfg).networks).networks.map((n) => ({ name: n.name ?? n.id.slice(0, 12), uplinks: n.uplinks.map((u) => u.iface) })); } catch { /* named generically below */ }
  const seen = new Set<string>();
  const out: DongleUse[] = [];
  for (const u of desired.uplinks) {
    const key = `${u.iface} ${u.role}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let by = lesson;
    if (u.owner === 'docker') {
      const nets = networks.filter((n) => n.uplinks.includes(u.iface)).map((n) => n.name);
      by = u.role === 'uplink' && nets.length ? `Docker network ${nets.join(', ')}` : 'the Docker networks';
    }
    out.push({ iface: u.iface, role: u.role, by });
  }
  return out;
}

export function dongleRoutes(app: Hono, deps: WebDeps, clientIp: (c: Context) => string, log: (f: Record<string, unknown>) => void): void {
  const roles = deps.dongleRoles;
  const scan = roles?.scan ?? scanNics;
  const limiter = new TokenBuckets(CHANGE_BURST, CHANGE_REFILL_MS, deps.now);

  const view = async (): Promise<HardwareView> => {
    const present = new Set(await deps.lab.dongles.present().catch(() => [] as string[]));
    const dongles = Object.entries(deps.cfg.dongles).map(([name, role]) => ({ name, role, present: present.has(name) }));
    let inUse: DongleUse[] = [];
    try { inUse = dongleUses(deps.cfg); } catch { /* a damaged lab file: the console says so elsewhere */ }
    const hw = deps.cfg.hardware;
    if (!hw) {
      return {
        discovery: false, editable: false, interfaces: [], assignments: [], dongles, inUse, warnings: [],
        note: 'No NIC discovery on this machine (its config has no `hardware:` section): lessons use the `dongles:` map as written. '
          + 'On the Pi, the USB Ethernet dongles found are listed here and their roles are changed here or with `dovelab hardware role`.',
      };
    }
    // The roles as written now (the file may have changed since the agent started: it is what a change edits).
    const written = roles ? loadConfig(roles.configFile) : deps.cfg;
    const r = hardwareReport(scan(hw.sysfs), written);
    return {
      discovery: true, editable: !!roles, interfaces: r.interfaces, assignments: r.assignments, dongles, inUse, warnings: r.warnings,
      ...(roles ? {} : { note: 'This agent was started without its config file: roles are read-only here; use `dovelab hardware role`.' }),
    };
  };

  app.get('/api/instructor/hardware', async (c) => {
    try { return c.json<HardwareView>(await view(), 200, noStore); } catch (e) {
      return fail(c, 500, (e as Error).message.split('\n')[0]!);
    }
  });

  app.post('/api/instructor/dongle-role', async (c) => {
    const ip = clientIp(c);
    const allowed = limiter.check(ip);
    if (!allowed.ok) return fail(c, 429, 'too many role changes; wait a little', { 'Retry-After': String(allowed.retryAfterS) });
    let raw: unknown;
    try { raw = await c.req.json(); } catch { raw = undefined; }
    const problem = bodyProblem(raw);
    if (problem) return fail(c, 400, problem);
    limiter.take(ip);
    const change = raw as DongleChange;
    if (!deps.cfg.hardware || !roles) {
      return fail(c, 409, deps.cfg.hardware
        ? 'roles are read-only here: this agent was started without its config file; use `dovelab hardware role`'
        : 'this machine has no NIC discovery (no `hardware:` section in its config): its dongles are the `dongles:` map, changed in the config file');
    }
    const t0 = Date.now();
    const what = 'remove' in change ? `${matchText(change.match)}: back to the defaults` : `${matchText(change.match)} is ${change.role}${change.name ? ` (${change.name})` : ''}`;
    try {
      const message = await withLabLock(deps.cfg, async () => {
        const file = roles.configFile;
        const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
        const written = loadConfig(file);
        const hwBefore = written.hardware ?? HardwareSchema.parse({});
        // An entry named by its old role's default (mir0 made a lab port) gets the new role's default name (lab1).
        const edit = withDefaultName(change, hwBefore, written.dongles);
        // Pure edit first: a bad name (eth1, a duplicate) is refused before anything is written.
        const next = editDongleConfig(text, edit, file);
        const hwAfter = HardwareSchema.parse((parseYaml(next) as { hardware?: unknown }).hardware ?? {});
        const s = scan(hwAfter.sysfs);
        const plan = planRoleChange(s, written.dongles, hwBefore, hwAfter, dongleUses(deps.cfg));
        if (plan.refused) throw new RoleRefused(plan.refused);
        updateDongleConfig(file, edit);
        const notes: string[] = [];
        if (hwAfter.link_dir) {
          const w = writeLinkFiles(hwAfter.link_dir, linkFiles(plan.after, s));
          notes.push(`.link files in ${hwAfter.link_dir}: ${w.written.length} written${w.removed.length ? `, ${w.removed.length} removed` : ''}`);
        }
        for (const r of plan.renames) {
          if (r.busy) { notes.push(`${r.from} keeps its name until it is plugged in again (${r.busy})`); continue; }
          if (!roles.rename) { notes.push(`${r.from} becomes ${r.to} when it is plugged in again${hwAfter.link_dir ? '' : ' after `dovelab hardware links` wrote its .link file'}`); continue; }
          try { await roles.rename(r.from, r.to); notes.push(`${r.from} renamed ${r.to}`); } catch (e) {
            notes.push(`${r.from} could not be renamed ${r.to} (${(e as Error).message.split('\n')[0]}): it will be when plugged in again`);
          }
        }
        // The running agent: its dongles map and hardware section from the file as written now.
        const reloaded = loadConfig(file);
        const now = applyDiscovery(reloaded, scan(reloaded.hardware!.sysfs));
        for (const cfg of new Set([deps.cfg, deps.lab.cfg])) { cfg.dongles = now.dongles; cfg.hardware = reloaded.hardware; }
        const map = Object.entries(now.dongles).map(([n, r]) => `${n} ${r}`).join(', ') || 'none';
        return `${what}. Dongles now: ${map}${notes.length ? `. ${notes.join('; ')}` : ''}`;
      });
      log({ msg: 'instructor', op: 'dongle-role', ms: Date.now() - t0 });
      return c.json<DongleRoleResult>({ ok: true, message, ms: Date.now() - t0, view: await view() }, 200, noStore);
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0]!;
      log({ msg: 'instructor', op: 'dongle-role', error: msg });
      if (e instanceof RoleRefused) return fail(c, 409, msg);
      return fail(c, e instanceof ConfigError ? 400 : 500, msg);
    }
  });
}

class RoleRefused extends Error {}

/** Pure: a role change without a name, for an entry whose name is another role's default, gets the new role's default name. */
export function withDefaultName(change: DongleChange, hw: HardwareConfig, explicit: Config['dongles']): DongleChange {
  if ('remove' in change || change.name) return change;
  const key = 'mac' in change.match ? change.match.mac.toLowerCase().replace(/-/g, ':') : change.match.usbPath;
  const entry = hw.dongles.find((d) => ('mac' in change.match ? d.mac : d.usb_path) === key);
  const old = entry?.name && roleOfDefaultName(entry.name);
  if (!entry?.name || !old || old === change.role) return change;
  const taken = new Set([...Object.keys(explicit), ...hw.dongles.filter((d) => d !== entry).flatMap((d) => (d.name ? [d.name] : []))]);
  return { ...change, name: defaultName(change.role, taken) };
}
