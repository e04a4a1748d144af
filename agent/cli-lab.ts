// The lab verbs of `dovelab`: up, down, status, exec, acl, mirror, host, diagram, lesson, agent.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from './config.js';
import type { ReconcileReport } from './lab/engine.js';

// Each verb loads what it uses when it runs: `dovelab --help` or `dovelab join-codes` need neither
// Docker's client nor the web server, and a CLI call stays small on a Pi (issue 13).
const m = {
  config: () => import('./config.js'),
  context: () => import('./context.js'),
  docker: () => import('./docker/client.js'),
  service: () => import('./lab/service.js'),
  state: () => import('./lab/state.js'),
  joinCodes: () => import('./lab/join-codes.js'),
  status: () => import('./lab/status.js'),
  summary: () => import('./lab/summary.js'),
  load: () => import('./lesson/load.js'),
  store: () => import('./lesson/store.js'),
  usb: () => import('./lesson/usb.js'),
};

/** A plain Error: the message is what `dovelab` prints (no module needed to make it). */
class VerbError extends Error {}

type Action = <A extends unknown[]>(fn: (...a: A) => Promise<void | number>) => (...a: A) => Promise<void>;

const int = (name: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new VerbError(`${name}: expected a positive whole number, got "${v}"`);
  return n;
};

function reportLine(r: ReconcileReport): string {
  const changes = r.actions.filter((a) => a.kind !== 'faucet' && a.kind !== 'warn').length;
  const f = r.faucet;
  const faucet = !f ? 'Faucet not asked'
    : !f.changed ? 'Faucet config unchanged'
    : `Faucet confirmed config ${f.sha256.slice(0, 12)} in ${f.ms} ms (${f.after.warmStarts - (f.before?.warmStarts ?? 0)} warm, ${f.after.coldStarts - (f.before?.coldStarts ?? 0)} cold)`;
  return `${changes} change(s); ${faucet}; ${(r.ms / 1000).toFixed(1)} s`;
}

export function registerLabVerbs(program: Command, cfg: () => Config, action: Action, log: (s: string) => void): void {
  const ctx = async () => (await m.context()).labContext(cfg(), log);
  const paths = async (c: Config) => (await m.config()).paths(c);
  /** The running lab's state, or the error that none runs. */
  const running = async (c: Config) => {
    const st = (await m.state()).readLabState((await paths(c)).labState);
    if (!st) throw new VerbError('no lab is running: `dovelab up <lesson>` first');
    return st;
  };

  program.command('up').description('bring up a lab: an installed or bundled lesson id, a pack (dir or archive) or a lesson.yaml; returns when it is ready')
    .argument('<lesson>').option('--groups <n>', "student groups (default: the lesson's default)")
    .action(action(async (lesson: string, o: { groups?: string }) => {
      const c = cfg();
      const [{ labUp, desiredOf }, { formatJoinCodes }, { labSummary }] = await Promise.all([m.service(), m.joinCodes(), m.summary()]);
      const found = /\.ya?ml$/i.test(lesson) ? { dir: lesson, dispose: () => {} } : await (await m.store()).findLesson(lesson, c.dataDir);
      try {
        const t = (await m.load()).loadTopology(found.dir);
        const groups = int('--groups', o.groups) ?? t.groups?.default ?? 1;
        if (t.groups && groups > t.groups.max) throw new VerbError(`--groups ${groups}: lesson ${t.id ?? lesson} allows at most ${t.groups.max}`);
        const { state, report } = await labUp(await ctx(), found.dir, groups);
        log(labSummary(desiredOf(c, state)));
        for (const w of report.warnings) log(`warning: ${w}`);
        log(`ready: ${groups} group(s); ${reportLine(report)}`);
        log(`join codes (for the students; \`dovelab join-codes\` shows them again):\n${formatJoinCodes(state.joinCodes)}`);
      } finally { found.dispose(); }
    }));

  program.command('down').description('remove the running lab (hosts and ports); infra stays up')
    .action(action(async () => { await (await m.service()).labDown(await ctx()); log('lab removed'); }));

  program.command('status').description('the lab and the switch').option('--json', 'machine-readable')
    .action(action(async (o: { json?: boolean }) => {
      const c = cfg();
      const [{ desiredOf }, { labStatus, formatLabStatus }, { formatJoinCodes }, { readNetworkState }, { formatDockerNetworks }, { leaseFileOf }, { readLease }] = await Promise.all([
        m.service(), m.status(), m.joinCodes(), import('./lab/network-state.js'), import('./lab/plan-networks.js'), import('./lab/networks.js'), import('./net/endpoint-dhcp.js'),
      ]);
      const st = (await m.state()).readLabState((await paths(c)).labState);
      const s = await labStatus(await ctx(), st, st ? desiredOf(c, st) : undefined);
      // Join codes are the teacher's: the CLI shows them, the kiosk never does.
      const nets = readNetworkState((await paths(c)).networks);
      const leases = Object.fromEntries(nets.endpoints.map((e) => [e.id, readLease(leaseFileOf(c, e.id))]));
      if (o.json) log(JSON.stringify({ ...s, join_codes: st?.joinCodes ?? {}, docker_networks: nets.networks.map((n) => ({ ...n, endpoints: nets.endpoints.filter((e) => e.network === n.id).map((e) => ({ ...e, lease: leases[e.id] ?? null })) })) }, null, 2));
      else {
        const docker = formatDockerNetworks(nets, leases);
        log(formatLabStatus(s) + (st?.joinCodes ? `\njoin codes: ${formatJoinCodes(st.joinCodes).split('\n').join(', ')}` : '') + (docker ? `\n${docker}` : ''));
      }
      return s.problems.length ? 1 : 0;
    }));

  program.command('join-codes').description("the students' join codes of the running lab, one line per group")
    .action(action(async () => {
      const st = await running(cfg());
      const { formatJoinCodes } = await m.joinCodes();
      // A lab started before join codes existed gets them now.
      log(formatJoinCodes(st.joinCodes && Object.keys(st.joinCodes).length >= st.groups ? st.joinCodes : await (await m.service()).ensureJoinCodes(cfg())));
    }));

  program.command('exec').description('run a command in a lab host: dovelab exec h1 --group 2 -- ping h2')
    .argument('<host>').argument('<cmd...>').option('--group <n>', 'group', '1')
    .action(action(async (host: string, cmd: string[], o: { group: string }) => {
      const st = await running(cfg());
      if (!(host in st.topology.hosts)) throw new VerbError(`unknown host ${host} (hosts: ${Object.keys(st.topology.hosts).join(', ')})`);
      const group = int('--group', o.group)!;
      if (group > st.groups) throw new VerbError(`--group ${group}: the lab has groups 1..${st.groups}`);
      const container = (await import('./lab/desired.js')).containerOf(st.topology, host, group);
      const { execIn, dockerClient } = await m.docker();
      const r = await execIn(dockerClient(), container, cmd, { allowFail: true });
      process.stdout.write(r.stdout); process.stderr.write(r.stderr);
      return r.code;
    }));

  program.command('acl').description('apply lesson ACLs to what an interface sends, live: dovelab acl h2.eth0 no-ping')
    .argument('<host.iface>').argument('[acls...]').option('--clear', 'remove all ACLs from the interface')
    .option('--group <n>', 'only this group (default: all)')
    .action(action(async (target: string, acls: string[], o: { clear?: boolean; group?: string }) => {
      if (!o.clear && acls.length === 0) throw new VerbError('name the ACLs to apply, or --clear');
      if (o.clear && acls.length) throw new VerbError('--clear takes no ACL names');
      const r = await (await m.service()).setAcls(await ctx(), target, o.clear ? [] : acls, int('--group', o.group));
      log(`${target}: ${o.clear ? 'ACLs cleared' : `ACLs ${acls.join(', ')}`}; ${reportLine(r)}`);
    }));

  program.command('mirror').description('start or stop copying an interface (or a host) to a mirror port, live')
    .argument('<on|off>').argument('<host.iface>').option('--to <mirror>', 'mirror name from the lesson')
    .option('--group <n>', 'only this group (default: all)')
    .action(action(async (onOff: string, target: string, o: { to?: string; group?: string }) => {
      if (onOff !== 'on' && onOff !== 'off') throw new VerbError(`expected on or off, got "${onOff}"`);
      const r = await (await m.service()).setMirror(await ctx(), onOff === 'on', target, o.to, int('--group', o.group));
      log(`mirror ${onOff} ${target}; ${reportLine(r)}`);
    }));

  const host = program.command('host').description('add or remove a lab host live');
  host.command('add').argument('<name>').requiredOption('--network <net>', 'network of eth0')
    .option('--ip <ip>', 'dhcp, none or a CIDR', 'none').option('--image <image>')
    .action(action(async (name: string, o: { network: string; ip: string; image?: string }) => {
      const iface = (await import('./lesson/schema.js')).InterfaceSchema.safeParse({ network: o.network, ip: o.ip });
      if (!iface.success) throw new VerbError(`--ip ${o.ip}: ${iface.error.issues[0]?.message}`);
      const r = await (await m.service()).addHost(await ctx(), name, { interfaces: { eth0: iface.data }, ...(o.image ? { image: o.image } : {}) });
      log(`host ${name} added; ${reportLine(r)}`);
    }));
  host.command('remove').argument('<name>').action(action(async (name: string) => {
    const r = await (await m.service()).removeHost(await ctx(), name);
    log(`host ${name} removed; ${reportLine(r)}`);
  }));

  program.command('reset').description('recreate one group from the lesson (others untouched)')
    .requiredOption('--group <n>', 'the group to reset')
    .action(action(async (o: { group: string }) => {
      const t0 = Date.now();
      const r = await (await m.service()).labReset(await ctx(), int('--group', o.group)!);
      log(`group ${o.group} reset in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${reportLine(r)}`);
    }));

  program.command('check').description("run the lesson's task checks")
    .option('--group <n>', 'only this group').option('--json', 'machine-readable')
    .action(action(async (o: { group?: string; json?: boolean }) => {
      const c = cfg();
      const st = await running(c);
      const g = int('--group', o.group);
      if (g !== undefined && g > st.groups) throw new VerbError(`--group ${g}: the lab has groups 1..${st.groups}`);
      const [{ checkIo, desiredOf }, { formatChecks, runChecks }] = await Promise.all([m.service(), import('./lab/check-run.js')]);
      const lctx = await ctx();
      const report = await runChecks(checkIo(lctx), st, desiredOf(c, st), g === undefined ? undefined : [g]);
      if (o.json) log(JSON.stringify(report, null, 2));
      else log(formatChecks(report, Object.fromEntries(st.topology.tasks.map((t) => [t.id, t.title]))));
      return report.results.some((r) => r.status === 'error') ? 2 : 0;
    }));

  program.command('diagram').description('wiring diagram of the running lab (Graphviz)')
    .option('--format <fmt>', 'dot or svg', 'dot').option('-o, --output <file>', 'write to a file')
    .action(action(async (o: { format: string; output?: string }) => {
      if (o.format !== 'dot' && o.format !== 'svg') throw new VerbError(`--format: dot or svg, not "${o.format}"`);
      const st = await running(cfg());
      const [{ desiredOf }, { labStatus }, { diagramDot, renderSvg }] = await Promise.all([m.service(), m.status(), import('./lab/diagram.js')]);
      const desired = desiredOf(cfg(), st);
      // Live facts on top of the plan: ports that are down, addresses learned by DHCP.
      const s = await labStatus(await ctx(), st, desired);
      const portsUp: Record<string, boolean> = {};
      const dhcpAddresses: Record<string, string> = {};
      for (const h of s.hosts) for (const i of h.interfaces) {
        portsUp[i.port] = i.port_ok && h.running;
        if (i.ip === 'dhcp' && i.addresses[0]) dhcpAddresses[`${h.key}-${i.name}`] = i.addresses[0];
      }
      for (const u of s.uplinks) portsUp[u.interface] = u.port_ok;
      const dot = diagramDot(desired, { title: st.topology.title ?? st.lab, live: { portsUp, dhcpAddresses } });
      const out = o.format === 'svg' ? await renderSvg(dot) : dot;
      if (o.output) writeFileSync(o.output, out); else process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
    }));

  const lesson = program.command('lesson').description('lesson packs');
  lesson.command('list').description('installed and bundled lessons (and packs on USB sticks)').option('--json')
    .action(action(async (o: { json?: boolean }) => {
      const entries = (await m.store()).listLessons(cfg().dataDir);
      const usb = (await m.usb()).findUsbLessonDirs();
      if (o.json) { log(JSON.stringify({ lessons: entries, usb }, null, 2)); return; }
      for (const e of entries) {
        log(`${e.id.padEnd(18)} ${(e.version || '-').padEnd(13)} ${(e.bundled ? 'bundled' : 'installed').padEnd(9)} ${e.error ? `BROKEN: ${e.error}` : `${e.title}${e.minutes ? ` (${e.minutes} min, ${e.level ?? ''})` : ''}`}`);
      }
      if (usb.length) log(`on USB sticks (install with \`dovelab lesson install <path>\` or --usb):\n  ${usb.join('\n  ')}`);
    }));
  lesson.command('install').argument('[path]', 'pack directory, .zip or .tar.gz').option('--usb', 'install every pack found on USB sticks')
    .description('install (or replace) a lesson pack; a running lab keeps its version until restarted')
    .action(action(async (path: string | undefined, o: { usb?: boolean }) => {
      const sources = o.usb ? (await m.usb()).findUsbLessonDirs() : path ? [path] : [];
      if (!sources.length) throw new VerbError(o.usb ? 'no dovelab-lessons/ folder on any mounted USB stick' : 'give a path, or --usb');
      const { installPack } = await m.store();
      for (const s of sources) {
        const r = await installPack(s, cfg().dataDir);
        log(`installed ${r.id} version ${r.version}${r.replaced ? ` (replaced ${r.replaced.version})` : ''}: ${r.title}`);
      }
    }));
  lesson.command('remove').argument('<id>').action(action(async (id: string) => {
    await (await m.store()).removeLesson(id, cfg().dataDir);
    log(`removed ${id}`);
  }));
  lesson.command('import').argument('<lab>', 'Kathará lab (dir or lab.conf) or containerlab .clab.yml')
    .requiredOption('-o, --output <dir>', 'where to write the lesson pack').option('--id <id>', 'lesson id')
    .option('--allow-host-files', 'also copy bind sources outside the lab folder (absolute paths, ~, links out)')
    .action(action(async (lab: string, o: { output: string; id?: string; allowHostFiles?: boolean }) => {
      // Images the importer may keep: those this appliance has.
      const { dockerClient } = await m.docker();
      const { importLab, importSummary, writePack } = await import('./lesson/import/index.js');
      const images = new Set((await dockerClient().listImages().catch(() => [])).flatMap((i) => i.RepoTags ?? []));
      const available = (name: string) => images.has(name) || images.has(`${name}:latest`);
      const r = importLab(lab, { imageAvailable: available, ...(o.id ? { id: o.id } : {}), allowHostFiles: !!o.allowHostFiles });
      const { dir } = writePack(r, o.output);
      log(importSummary(r, dir));
    }));
  lesson.command('validate').argument('<path>').description('check a lesson (pack dir, archive, id or lesson.yaml) without applying anything')
    .option('--groups <n>', 'also plan it for N groups', '1')
    .action(action(async (path: string, o: { groups: string }) => {
      const c = cfg();
      const [{ desiredOf }, { PlanError }, { LessonError, lessonFile }, { loadPack }, { openLabLesson }, { lessonInterfaceProblems }, { readInterfaceFacts }, { missingImageProblems }, { dockerCall, dockerClient }] = await Promise.all([
        m.service(), import('./lab/desired.js'), m.load(), import('./lesson/pack.js'), import('./lesson/snapshot.js'), import('./lab/interfaces.js'),
        import('./hardware/interfaces.js'), import('./lesson/images.js'), m.docker(),
      ]);
      const found = /\.ya?ml$/i.test(path) ? undefined : await (await m.store()).findLesson(path, c.dataDir);
      try {
        const dir = found?.dir ?? path;
        // The checks `up` runs: an archive and a dir with README.md are packs; a bare lesson.yaml gets all but the README's.
        const t = found?.from === 'archive' ? loadPack(dir, { name: path }).lesson : openLabLesson(dir).topology;
        // Planning catches what depends on the group count (e.g. an untagged uplink of a per-group network).
        let d;
        try {
          d = desiredOf(c, { lab: t.id ?? 'lab', source: path, groups: int('--groups', o.groups)!, topology: t, startedAt: '' });
        } catch (e) {
          if (e instanceof PlanError) throw new VerbError(`${lessonFile(dir)}: ${e.message}`);
          throw e;
        }
        // The interfaces it would take: only this appliance's dongles of the right role.
        const problems = lessonInterfaceProblems(t, c.dongles, await readInterfaceFacts(), c.bridge);
        // The images its hosts name: built (or loaded) on this appliance.
        const have = await dockerCall('list images', (signal) => dockerClient().listImages({ abortSignal: signal } as object), 10_000)
          .then((l) => new Set(l.flatMap((i) => i.RepoTags ?? [])), () => undefined);
        if (have) problems.push(...missingImageProblems(t, c.images.labhost, have));
        else log(`${path}: images not checked (dockerd does not answer)`);
        if (problems.length) throw new LessonError(lessonFile(dir), problems);
        log(`${path}: valid (${Object.keys(t.hosts).length} hosts, ${t.tasks.length} tasks, ${d.ports.length} ports for ${o.groups} group(s))`);
      } finally { found?.dispose(); }
    }));
  lesson.command('schema').description('print the lesson topology format as JSON Schema')
    .action(action(async () => { log(JSON.stringify((await import('./lesson/schema.js')).topologyJsonSchema(), null, 2)); }));

  program.command('agent').description('run the agent: keeps the lab on disk and the switch in step (repairs drift)')
    .option('--interval <s>', 'seconds between checks', '10')
    .action(action(async (o: { interval: string }) => { await (await import('./lab/agent.js')).runAgent(cfg(), log, int('--interval', o.interval)! * 1000); }));
}
