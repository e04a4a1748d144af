// Desired vs observed state -> ordered actions. Pure: repairs only what differs.
import { createHash } from 'node:crypto';
import type { FaucetModel } from '../net/faucet/model.js';
import type { DesiredCapture, DesiredGateway, DesiredHost, DesiredPluginPort, DesiredPort, DesiredSlot, DesiredState, DesiredUplink } from './desired.js';

export interface ObservedHost {
  container: string;
  running: boolean;
  labels: Record<string, string>;
  /** Interface names inside its netns (empty when not running; undefined when they could not be read). */
  links: string[] | undefined;
  /** Why its interfaces could not be read. */
  unobserved?: string;
}
export interface ObservedPort { name: string; ofport: number; externalIds: Record<string, string>; error?: string }
export interface ObservedState {
  hosts: ObservedHost[];
  ports: ObservedPort[];
  /** Interfaces present in the appliance's own netns (dongles plugged in). */
  interfaces: string[];
  /** Dongles hardened now (their settings recorded), whether or not still on the bridge. */
  held?: string[];
  /** Addresses (CIDR) of the appliance's interfaces; read only when gateways are wanted. */
  addresses?: Record<string, string[]>;
}

export type Action =
  | { kind: 'remove-port'; port: string; veth: boolean; why: string }
  | { kind: 'add-uplink'; uplink: DesiredUplink; why: string }
  | { kind: 'add-capture'; capture: DesiredCapture; why: string }
  | { kind: 'add-plugin-port'; port: DesiredPluginPort; why: string }
  /** A spare port's OVS port, and its veth pair too when `veth` (missing or half). */
  | { kind: 'add-slot'; slot: DesiredSlot; veth: boolean; why: string }
  | { kind: 'add-gateway'; gateway: DesiredGateway; why: string }
  | { kind: 'warn'; message: string }
  | { kind: 'startup'; host: DesiredHost }
  | { kind: 'remove-host'; container: string; why: string }
  | { kind: 'create-host'; host: DesiredHost; why: string }
  | { kind: 'attach'; port: DesiredPort; why: string }
  | { kind: 'faucet'; model: FaucetModel };

export const LABEL = { lab: 'dovelab.lab', group: 'dovelab.group', host: 'dovelab.host', spec: 'dovelab.spec' } as const;

export const hostSpecHash = (h: DesiredHost) =>
  createHash('sha256').update(JSON.stringify([h.image, h.hostname, h.sysctl, h.startup ?? '', Object.keys(h.files).sort(), h.limits, ...(h.ifaceSysctl ? [h.ifaceSysctl] : [])])).digest('hex').slice(0, 16);

export function hostLabels(lab: string, h: DesiredHost): Record<string, string> {
  return { [LABEL.lab]: lab, [LABEL.group]: String(h.group), [LABEL.host]: h.host, [LABEL.spec]: hostSpecHash(h) };
}

export function portExternalIds(lab: string, p: DesiredPort): Record<string, string> {
  return {
    'dovelab-lab': lab, 'dovelab-group': String(p.group), 'dovelab-host': p.host,
    'dovelab-interface': p.ifname, 'dovelab-mac': p.mac, 'dovelab-container': p.container, 'dovelab-role': 'host',
  };
}

export function uplinkExternalIds(lab: string, u: DesiredUplink): Record<string, string> {
  return { 'dovelab-lab': u.owner ?? lab, 'dovelab-role': u.role, [`dovelab-${u.role}`]: u.name };
}

export function pluginPortExternalIds(p: DesiredPluginPort): Record<string, string> {
  // A spare's port keeps its ids whoever holds it: a container taking it changes nothing on OVS.
  if (p.slot) return slotExternalIds(p.network, p.ofport);
  return { 'dovelab-role': 'plugin', 'dovelab-network': p.network, 'dovelab-endpoint': p.endpoint, 'dovelab-mac': p.mac };
}

/** A spare port of a Docker network (held by a container or not). */
export function slotExternalIds(network: string, ofport: number): Record<string, string> {
  return { 'dovelab-role': 'plugin', 'dovelab-network': network, 'dovelab-slot': String(ofport) };
}

export function gatewayExternalIds(g: DesiredGateway): Record<string, string> {
  return { 'dovelab-role': 'gateway', 'dovelab-network': g.network, 'dovelab-address': g.address, 'dovelab-mac': g.mac, 'dovelab-mtu': String(g.mtu) };
}

export function captureExternalIds(lab: string, c: DesiredCapture): Record<string, string> {
  return { 'dovelab-lab': c.owner ?? lab, 'dovelab-role': 'capture', 'dovelab-group': c.owner ?? String(c.group) };
}

/** Ports whose OVS end is our veth (removing them deletes the link); others are dongles. */
const isVethRole = (role: string | undefined) => role === undefined || role === 'host' || role === 'capture' || role === 'plugin' || role === 'gateway';
/** A port of the appliance's own interfaces (uplink or mirror dongle). */
export const isDongleRole = (role: string | undefined) => role !== undefined && !isVethRole(role);

/** Why an OVS port is not as wanted (missing, another number, broken, other owner), or undefined. */
export function portDrift(got: ObservedPort | undefined, ofport: number, ids: Record<string, string>): string | undefined {
  return !got ? 'port missing'
    : got.ofport !== ofport ? `ofport ${got.ofport} != ${ofport}`
    : got.error ? `port error: ${got.error}`
    : !sameIds(ids, got.externalIds) ? 'port settings differ'
    : undefined;
}

const sameIds = (want: Record<string, string>, got: Record<string, string>) =>
  Object.entries(want).every(([k, v]) => got[k] === v);

/** Observed ports that belong to Dovelab (others on the bridge, e.g. uplinks, are not ours here). */
const isLabPort = (p: ObservedPort) => 'dovelab-lab' in p.externalIds;

export interface DiffOptions {
  /** Containers to make again even if they look right (reset of a group). */
  recreate?: Set<string>;
}

export function diff(desired: DesiredState, observed: ObservedState, opts: DiffOptions = {}): Action[] {
  const actions: Action[] = [];
  const wantHosts = new Map(desired.hosts.map((h) => [h.container, h]));
  const wantPorts = new Map(desired.ports.map((p) => [p.hostEnd, p]));
  const gotHosts = new Map(observed.hosts.map((h) => [h.container, h]));
  const gotPorts = new Map(observed.ports.map((p) => [p.name, p]));

  const recreated = new Set<string>();
  for (const h of observed.hosts) {
    const want = wantHosts.get(h.container);
    if (!want) actions.push({ kind: 'remove-host', container: h.container, why: 'not in the lab' });
    else if (opts.recreate?.has(h.container)) {
      actions.push({ kind: 'remove-host', container: h.container, why: 'reset' });
      recreated.add(h.container);
    } else if (!sameIds(hostLabels(desired.lab, want), h.labels)) {
      actions.push({ kind: 'remove-host', container: h.container, why: 'its image or settings changed' });
      recreated.add(h.container);
    } else if (!h.running) {
      actions.push({ kind: 'remove-host', container: h.container, why: 'not running' });
      recreated.add(h.container);
    }
  }
  const wantUplinks = new Map(desired.uplinks.map((u) => [u.iface, u]));
  const wantCaptures = new Map((desired.captures ?? []).map((c) => [c.hostEnd, c]));
  const wantPlugin = new Set([...(desired.pluginPorts ?? []).map((p) => p.hostEnd), ...(desired.slots ?? []).map((s) => s.hostEnd)]);
  const wantGateways = new Map((desired.gateways ?? []).map((g) => [g.portEnd, g]));
  for (const p of observed.ports) {
    const role = p.externalIds['dovelab-role'];
    const veth = isVethRole(role);
    const wanted = role === 'capture' ? wantCaptures.has(p.name) : role === 'plugin' ? wantPlugin.has(p.name) : role === 'gateway' ? wantGateways.has(p.name) : veth ? wantPorts.has(p.name) : wantUplinks.has(p.name);
    if ((isLabPort(p) || role === 'plugin' || role === 'gateway') && !wanted) {
      actions.push({ kind: 'remove-port', port: p.name, veth, why: role === 'plugin' ? 'its container left the network' : role === 'gateway' ? 'its network is gone' : 'not in the lab' });
    }
  }
  // A gateway pair OVS lost track of (its network gone meanwhile) still goes: deleting one end deletes both.
  for (const i of observed.interfaces) {
    if (/^gp\d+$/.test(i) && !wantGateways.has(i) && !gotPorts.has(i)) actions.push({ kind: 'remove-port', port: i, veth: true, why: 'gateway of no network' });
  }
  // A dongle hardened earlier but no longer on the bridge (OVS lost it) still gets its settings back.
  for (const d of observed.held ?? []) {
    if (!wantUplinks.has(d) && !gotPorts.has(d)) actions.push({ kind: 'remove-port', port: d, veth: false, why: 'hardened but not in the lab' });
  }
  for (const h of desired.hosts) {
    if (!gotHosts.has(h.container) || recreated.has(h.container)) {
      actions.push({ kind: 'create-host', host: h, why: gotHosts.has(h.container) ? 'recreate' : 'missing' });
      recreated.add(h.container);
    }
  }
  // A host whose interfaces could not be read is left alone: "unknown" is not "absent".
  const unobserved = new Set<string>();
  for (const h of observed.hosts) {
    if (h.running && h.links === undefined && wantHosts.has(h.container) && !recreated.has(h.container)) {
      unobserved.add(h.container);
      actions.push({ kind: 'warn', message: `could not read the interfaces of ${h.container}${h.unobserved ? ` (${h.unobserved})` : ''}: not repairing them this time` });
    }
  }
  for (const p of desired.ports) {
    const got = gotPorts.get(p.hostEnd);
    const why = recreated.has(p.container) ? 'host (re)created'
      : !got ? 'port missing'
      : got.ofport !== p.ofport ? `ofport ${got.ofport} != ${p.ofport}`
      : got.error ? `port error: ${got.error}`
      : !sameIds(portExternalIds(desired.lab, p), got.externalIds) ? 'port belongs to another host'
      : unobserved.has(p.container) ? undefined
      : !(gotHosts.get(p.container)?.links?.includes(p.ifname)) ? `${p.ifname} missing in the host`
      : undefined;
    if (why) actions.push({ kind: 'attach', port: p, why });
  }
  for (const u of desired.uplinks) {
    const got = gotPorts.get(u.iface);
    if (!observed.interfaces.includes(u.iface)) {
      actions.push({ kind: 'warn', message: `${u.role} ${u.name}: interface ${u.iface} is not present (dongle unplugged?)` });
      continue;
    }
    const why = portDrift(got, u.ofport, uplinkExternalIds(desired.lab, u));
    if (why) actions.push({ kind: 'add-uplink', uplink: u, why });
  }
  for (const c of desired.captures ?? []) {
    const why = portDrift(gotPorts.get(c.hostEnd), c.ofport, captureExternalIds(desired.lab, c));
    if (why) actions.push({ kind: 'add-capture', capture: c, why });
  }
  for (const p of desired.pluginPorts ?? []) {
    const why = portDrift(gotPorts.get(p.hostEnd), p.ofport, pluginPortExternalIds(p));
    if (why) actions.push({ kind: 'add-plugin-port', port: p, why });
  }
  for (const g of desired.gateways ?? []) {
    const why = portDrift(gotPorts.get(g.portEnd), g.ofport, gatewayExternalIds(g))
      ?? (!observed.interfaces.includes(g.addrEnd) ? `${g.addrEnd} missing`
        : observed.addresses && !observed.addresses[g.addrEnd]?.includes(g.address) ? `${g.addrEnd} lost ${g.address}`
        : undefined);
    if (why) actions.push({ kind: 'add-gateway', gateway: g, why });
  }
  actions.push({ kind: 'faucet', model: desired.faucet });
  // Spare ports after Faucet: nothing waits on them (a container finding one not ready makes its own).
  for (const s of desired.slots ?? []) {
    const veth = !observed.interfaces.includes(s.hostEnd) || !observed.interfaces.includes(s.peer);
    const why = veth ? 'its veth pair is missing' : portDrift(gotPorts.get(s.hostEnd), s.ofport, slotExternalIds(s.network, s.ofport));
    if (why) actions.push({ kind: 'add-slot', slot: s, veth, why });
  }
  // Startup scripts run once, on hosts made now, after the network is up.
  for (const h of desired.hosts) if (h.startup && recreated.has(h.container)) actions.push({ kind: 'startup', host: h });
  return actions;
}
