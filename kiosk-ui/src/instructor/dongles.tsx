// The appliance's USB Ethernet dongles in the instructor console: per dongle its USB port, MAC,
// link and speed, and its role (uplink, mirror, lab port, unused) and name, changed here. A dongle
// the running lesson uses cannot change (the agent refuses; the row says why). The board's own
// ports and Wi-Fi are one line (they never get a role); virtual interfaces (Docker, OVS, the lab's
// own ports) are not shown at all: they are not hardware. Without NIC discovery (a dev machine) the
// section shows the dongles map as written, read-only, and how roles are set on the Pi.
import { useEffect, useState } from 'preact/hooks';
import type { DongleAssignmentView, DongleRoleRequest, DongleRoleView, HardwareInterfaceView, HardwareView } from '../../../agent/web/api-types.js';
import { ApiFailure } from '../shared/api.js';
import { teacher } from './api.js';

/** Links come and go (a cable pulled): look again this often. */
const POLL_MS = 10_000;
const ROLES: { role: DongleRoleView; label: string }[] = [
  { role: 'uplink', label: 'Uplink (school network)' },
  { role: 'mirror', label: 'Mirror (copies traffic)' },
  { role: 'lab', label: 'Lab port (a laptop or switch)' },
  { role: 'unused', label: 'Unused' },
];

export function Dongles({ onLoggedOut }: { onLoggedOut: () => void }) {
  const [view, setView] = useState<HardwareView | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = () => teacher.hardware().then((v) => { setView(v); setProblem(null); }, (e: unknown) => {
    if (e instanceof ApiFailure && e.status === 401) onLoggedOut(); else setProblem(e instanceof Error ? e.message : String(e));
  });
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(t);
  }, []);
  return (
    <section class="card" aria-labelledby="dg-h" data-testid="dongles">
      <h2 id="dg-h" class="section-h">Dongles <span class="i-sub">USB Ethernet adapters and their roles</span></h2>
      {problem && <p class="i-error" role="alert">{problem}</p>}
      {!view ? !problem && <p role="status">Loading…</p> : view.discovery ? <Discovered view={view} reload={load} onLoggedOut={onLoggedOut} /> : <AsWritten view={view} />}
    </section>
  );
}

/** No discovery here: the dongles map the lessons use, and how roles are set on the Pi. */
function AsWritten({ view }: { view: HardwareView }) {
  return (
    <>
      {view.dongles.length ? (
        <ul class="i-dg-map" aria-label="Dongles lessons may use">
          {view.dongles.map((d) => <li key={d.name}><strong class="mono">{d.name}</strong> {d.role} <span class={d.present ? 'i-dg-up' : 'i-dg-down'}>{d.present ? 'present' : 'missing'}</span></li>)}
        </ul>
      ) : <p>No dongles configured.</p>}
      {view.note && <p class="muted i-small">{view.note}</p>}
    </>
  );
}

function Discovered({ view, reload, onLoggedOut }: { view: HardwareView; reload: () => Promise<void>; onLoggedOut: () => void }) {
  const dongles = view.interfaces.filter((i) => i.dongle);
  const absent = view.assignments.filter((a) => !a.present);
  const others = view.interfaces.filter((i) => !i.dongle && !i.virtual);
  const byIf = new Map(view.assignments.filter((a) => a.ifname).map((a) => [a.ifname!, a]));
  return (
    <>
      {view.warnings.length > 0 && <ul class="i-warnings" aria-label="Dongle warnings">{view.warnings.map((w) => <li key={w}><strong>!</strong> {w}</li>)}</ul>}
      {dongles.length || absent.length ? (
        // Rows are keyed by the USB port (or MAC), not the name: a renamed dongle keeps its row and the answer shown in it.
        <ul class="i-dg-list">
          {dongles.map((i) => <DongleRow key={i.usbPath ?? i.mac ?? i.name} i={i} a={byIf.get(i.name)} view={view} reload={reload} onLoggedOut={onLoggedOut} />)}
          {absent.map((a) => <DongleRow key={'usbPath' in a.match ? a.match.usbPath : a.match.mac} a={a} view={view} reload={reload} onLoggedOut={onLoggedOut} />)}
        </ul>
      ) : <p>No USB Ethernet dongle is plugged in. Plug one into a USB port: it shows here within a few seconds.</p>}
      <p class="muted i-small">
        Lessons may use: {view.dongles.length ? view.dongles.map((d) => `${d.name} (${d.role})`).join(', ') : 'no dongle'}.
        {others.length > 0 && <> Never a dongle: {others.map((o) => `${o.name} (${otherText(o)})`).join(', ')}.</>}
        {' '}Virtual interfaces (Docker, Open vSwitch, lab ports) are not listed.
      </p>
      {view.note && <p class="muted i-small">{view.note}</p>}
    </>
  );
}

/** Why a hardware interface is never a dongle, short. */
const otherText = (o: HardwareInterfaceView) => (o.wireless ? 'Wi-Fi' : o.onboard || o.bus !== 'usb' ? 'the board\'s own port' : o.reason);

const linkText = (i: HardwareInterfaceView) => (i.carrier === null ? 'link unknown' : i.carrier ? `link up${i.speed ? `, ${i.speed >= 1000 ? `${i.speed / 1000} Gbit/s` : `${i.speed} Mbit/s`}` : ''}` : 'no link');

function DongleRow({ i, a, view, reload, onLoggedOut }: { i?: HardwareInterfaceView; a?: DongleAssignmentView; view: HardwareView; reload: () => Promise<void>; onLoggedOut: () => void }) {
  const usbPath = i?.usbPath ?? (a && 'usbPath' in a.match ? a.match.usbPath : null);
  const mac = i?.mac ?? (a && 'mac' in a.match ? a.match.mac : null);
  const name = a?.name ?? i?.name ?? '?';
  const role = a?.role ?? 'unused';
  const pinnedByMac = !!a && a.source === 'config' && 'mac' in a.match;
  const [newRole, setNewRole] = useState<DongleRoleView>(role);
  const [newName, setNewName] = useState('');
  const [byMac, setByMac] = useState(pinnedByMac);
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => { setNewRole(role); setByMac(pinnedByMac); }, [role, pinnedByMac]);
  const use = view.inUse.find((u) => u.iface === name);
  const id = `dg-${name}`;
  const match = byMac && mac ? { mac } : usbPath ? { usbPath } : mac ? { mac } : null;
  const changed = newRole !== role || newName.trim() !== '' || byMac !== pinnedByMac;
  const send = async (label: string, body: DongleRoleRequest) => {
    setBusy(label); setResult(null);
    try {
      const r = await teacher.dongleRole(body);
      setResult({ ok: true, text: r.message }); setNewName('');
    } catch (e) {
      if (e instanceof ApiFailure && e.status === 401) { onLoggedOut(); return; }
      setResult({ ok: false, text: e instanceof Error ? e.message : String(e) });
    } finally { setBusy(null); await reload(); }
  };
  const facts = [
    usbPath ? `USB port ${usbPath}` : null, mac ? `MAC ${mac}` : null,
    i ? linkText(i) : 'not plugged in',
    i?.model ?? i?.driver ?? null,
  ].filter(Boolean).join(' · ');
  const locked = !!use || !view.editable;
  return (
    <li class={`i-dg ${i ? '' : 'absent'}`} data-dongle={name} aria-labelledby={id}>
      <div class="i-dg-who">
        <strong id={id} class="mono">{name}</strong>
        {i && i.name !== name && <span class="muted i-small"> (now {i.name})</span>}
        <span class={`i-dg-role ${role}`}>{role === 'lab' ? 'lab port' : role}</span>
        {i && <span class={i.carrier ? 'i-dg-up' : 'i-dg-down'} aria-hidden="true">{i.carrier ? '●' : '○'}</span>}
        <div class="muted i-small i-dg-facts">{facts}</div>
        {use && <div class="i-small i-dg-use">In use by {use.by}: stop it to change this dongle.</div>}
      </div>
      {view.editable && match && !use && (
        <form class="i-dg-form" onSubmit={(e) => { e.preventDefault(); void send('Saving', { match, role: newRole, ...(newName.trim() ? { name: newName.trim() } : {}) }); }}>
          <label class="i-dg-field">
            <span>Role</span>
            <select value={newRole} disabled={locked || !!busy} onChange={(e) => setNewRole((e.target as HTMLSelectElement).value as DongleRoleView)}>
              {ROLES.map((r) => <option key={r.role} value={r.role}>{r.label}</option>)}
            </select>
          </label>
          <label class="i-dg-field">
            <span>Name</span>
            <input type="text" class="i-dg-name" value={newName} placeholder={name} maxLength={15} disabled={locked || !!busy} spellcheck={false} autocomplete="off"
              pattern="[A-Za-z][A-Za-z0-9_\-]{0,14}" title="a letter, then up to 14 letters, digits, _ or -"
              onInput={(e) => setNewName((e.target as HTMLInputElement).value)} />
          </label>
          <div class="i-dg-buttons">
            <button class="primary small" type="submit" disabled={locked || !!busy || !changed}>Save<span class="vh"> {name}</span></button>
            {a?.source === 'config' && (
              <button class="linkish small" type="button" disabled={locked || !!busy}
                onClick={() => void send('Going back to the default', { match: a.match, remove: true })}>Default role<span class="vh"> for {name}</span></button>
            )}
          </div>
          {mac && usbPath && (
            <label class="i-dg-check">
              <input type="checkbox" checked={byMac} disabled={locked || !!busy} onChange={(e) => setByMac((e.target as HTMLInputElement).checked)} />
              <span>Follow this dongle to any port</span>
            </label>
          )}
        </form>
      )}
      {busy && <p class="i-dn-note muted" role="status"><span class="i-spin" aria-hidden="true" /> {busy}…</p>}
      {!busy && result && <p class={`i-dn-note ${result.ok ? 'ok' : 'bad'}`} role={result.ok ? 'status' : 'alert'}>{result.text}</p>}
    </li>
  );
}
