// Docker networks of the driver in the instructor console: per network its VLAN, mode and uplinks;
// per container its interface, address or lease and MAC, with the appliance's ACLs and the mirror
// as switches. A refused change shows the server's reason beside the container it was for.
import { useEffect, useState } from 'preact/hooks';
import type { DockerContainerView, DockerNetworkView, DockerNetworksView } from '../../../agent/web/api-types.js';
import { ApiFailure } from '../shared/api.js';
import { teacher } from './api.js';

/** Networks change when containers come and go (docker run elsewhere): look again this often. */
const POLL_MS = 15_000;

export function DockerNetworks({ onLoggedOut }: { onLoggedOut: () => void }) {
  const [view, setView] = useState<DockerNetworksView | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = () => teacher.networks().then((v) => { setView(v); setProblem(null); }, (e: unknown) => {
    if (e instanceof ApiFailure && e.status === 401) onLoggedOut(); else setProblem(e instanceof Error ? e.message : String(e));
  });
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(t);
  }, []);
  // Only when there are any (or when the appliance cannot read them: say why).
  if (problem) {
    return (
      <section class="card" aria-labelledby="dn-h">
        <h2 id="dn-h" class="section-h">Docker networks</h2>
        <p class="i-error" role="alert">{problem}</p>
      </section>
    );
  }
  if (!view?.networks.length) return null;
  return (
    <section class="card" aria-labelledby="dn-h" data-testid="docker-networks">
      <h2 id="dn-h" class="section-h">Docker networks <span class="i-sub">docker network create -d dovelab</span></h2>
      {view.networks.map((n) => <Network key={n.id} n={n} acls={view.acls} mirrors={view.mirrors} reload={load} onLoggedOut={onLoggedOut} />)}
      <NetworksDiagram />
    </section>
  );
}

function Network({ n, acls, mirrors, reload, onLoggedOut }: { n: DockerNetworkView; acls: string[]; mirrors: string[]; reload: () => Promise<void>; onLoggedOut: () => void }) {
  const facts = [`VLAN ${n.vid}`, n.mode, ...(n.dhcp ? ['DHCP'] : []), ...(n.tagged ? ['tagged'] : []), ...(n.gateway ? [`gateway ${n.gateway}`] : [])];
  const uplinks = n.uplinks.map((u) => `${u.iface}${u.vlan !== undefined ? ` (VLAN ${u.vlan})` : ''}`).join(', ');
  return (
    <article class="i-dn" aria-labelledby={`dn-${n.id}`} data-network={n.name}>
      <h3 id={`dn-${n.id}`} class="i-dn-h">{n.name}</h3>
      <p class="i-dn-facts">{facts.join(' · ')}<span class="muted"> · {uplinks ? `uplinks: ${uplinks}` : 'no uplink'}</span></p>
      {n.containers.length ? (
        <ul class="i-dn-list">
          {n.containers.map((c) => <Container key={c.endpoint} n={n} c={c} acls={acls} mirrors={mirrors} reload={reload} onLoggedOut={onLoggedOut} />)}
        </ul>
      ) : <p class="muted i-small">No containers yet.</p>}
    </article>
  );
}

function Container({ n, c, acls, mirrors, reload, onLoggedOut }: { n: DockerNetworkView; c: DockerContainerView; acls: string[]; mirrors: string[]; reload: () => Promise<void>; onLoggedOut: () => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const name = c.container ?? `endpoint ${c.endpoint.slice(0, 12)}`;
  const address = c.lease ? `${c.lease.ip} (DHCP, ${c.lease.hostname})` : c.address ?? (n.dhcp ? (c.joined ? 'no lease yet' : 'DHCP') : 'no address');
  // By name on its network when known (readable in the log); by endpoint id before it joined.
  const who = c.container && c.joined ? { container: c.container, network: n.id } : { container: c.endpoint };
  const change = async (label: string, body: { acls?: string[]; mirror?: boolean | string }) => {
    setBusy(label); setResult(null);
    try {
      const r = await teacher.networkEndpoint({ ...who, ...body });
      setResult({ ok: true, text: r.message });
    } catch (e) {
      if (e instanceof ApiFailure && e.status === 401) { onLoggedOut(); return; }
      setResult({ ok: false, text: e instanceof Error ? e.message : String(e) });
    } finally { setBusy(null); await reload(); }
  };
  const mirrorTo = mirrors[0];
  return (
    <li class="i-dn-c" data-container={name}>
      <div class="i-dn-who">
        <strong class="mono">{name}</strong>
        <span class="muted i-small"> {[c.ifname, address, c.mac].filter(Boolean).join(' · ')}{c.joined ? '' : ' · not started'}</span>
        {c.published.length > 0 && <div class="muted i-small">published {c.published.map((p) => `${p.hostPort} → ${p.port}/${p.proto}`).join(', ')}</div>}
      </div>
      <div class="i-toggles" role="group" aria-label={`ACLs on ${name}`}>
        {acls.map((a) => {
          const on = c.acls.includes(a);
          return (
            <button key={a} type="button" class="i-toggle" aria-pressed={on} disabled={!!busy}
              onClick={() => void change(`${on ? 'Removing' : 'Applying'} ${a}`, { acls: on ? c.acls.filter((x) => x !== a) : [...c.acls, a] })}>
              <span class="i-dot" aria-hidden="true">{on ? '●' : '○'}</span>{a}<span class="vh"> on {name}</span>
            </button>
          );
        })}
        {mirrorTo && (
          <button type="button" class="i-toggle i-dn-mirror" aria-pressed={!!c.mirror} disabled={!!busy}
            onClick={() => void change(`Mirror ${c.mirror ? 'off' : 'on'}`, { mirror: c.mirror ? false : mirrorTo })}>
            <span class="i-dot" aria-hidden="true">{c.mirror ? '●' : '○'}</span>mirror to {c.mirror ?? mirrorTo}<span class="vh"> ({name})</span>
          </button>
        )}
      </div>
      {busy && <p class="i-dn-note muted" role="status"><span class="i-spin" aria-hidden="true" /> {busy}…</p>}
      {!busy && result && <p class={`i-dn-note ${result.ok ? 'ok' : 'bad'}`} role={result.ok ? 'status' : 'alert'}>{result.text}</p>}
    </li>
  );
}

/** The networks' wiring drawn by the agent, loaded when asked for. */
function NetworksDiagram() {
  const [svg, setSvg] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const load = () => {
    setLoading(true);
    teacher.networksDiagram().then((d) => { setSvg(d.svg); setErr(null); }, (e: unknown) => setErr(e instanceof Error ? e.message : String(e)))
      .finally(() => setLoading(false));
  };
  return (
    <div class="i-dn-diagram">
      <button class="secondary small" type="button" onClick={load} disabled={loading}>
        {loading ? 'Drawing…' : svg ? 'Draw the networks again' : 'Show the networks diagram'}
      </button>
      {err && <p class="i-error" role="alert">{err}</p>}
      {svg && <div class="i-diagram" role="img" aria-label="Wiring diagram of the Docker networks" tabIndex={0} dangerouslySetInnerHTML={{ __html: svg }} />}
    </div>
  );
}
