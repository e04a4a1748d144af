// The group's hosts, each with a Terminal button, and the open terminals as tabs. xterm.js is in
// its own chunk (../term/terminal.ts), imported the first time a terminal opens.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { HostView } from '../../../agent/web/api-types.js';
import type { TermHandle, TermState } from '../term/types.js';

interface Open { id: number; host: string; label: string }

let nextId = 1;

export function Terminals(props: { hosts: HostView[] }) {
  const [open, setOpen] = useState<Open[]>([]);
  const [active, setActive] = useState<number | null>(null);
  const tabs = useRef<HTMLDivElement>(null);

  const openHost = (host: string, another = false) => {
    const existing = open.find((o) => o.host === host);
    if (existing && !another) { setActive(existing.id); return; }
    const n = open.filter((o) => o.host === host).length;
    const o: Open = { id: nextId++, host, label: n ? `${host} #${n + 1}` : host };
    setOpen([...open, o]);
    setActive(o.id);
  };
  const close = (id: number) => {
    const i = open.findIndex((o) => o.id === id);
    const rest = open.filter((o) => o.id !== id);
    setOpen(rest);
    if (active === id) setActive(rest[Math.min(i, rest.length - 1)]?.id ?? null);
  };
  const onTabKey = (ev: KeyboardEvent) => {
    const i = open.findIndex((o) => o.id === active);
    const step = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
    if (!step || i < 0) return;
    ev.preventDefault();
    const next = open[(i + step + open.length) % open.length]!;
    setActive(next.id);
    tabs.current?.querySelector<HTMLElement>(`#tab-${next.id}`)?.focus();
  };

  return (
    <section id="terminals" class="card" aria-labelledby="term-h">
      <h2 id="term-h" class="section-h">Hosts and terminals</h2>
      <ul class="hosts">
        {props.hosts.map((h) => {
          const count = open.filter((o) => o.host === h.name).length;
          return (
            <li key={h.name} class="host">
              <div class="host-info">
                <p class="host-name">
                  <span class="mono">{h.name}</span>
                  <span class={h.running ? 'pill ok' : 'pill down'}>{h.running ? 'running' : 'stopped'}</span>
                </p>
                <ul class="ifs">
                  {h.interfaces.map((i) => (
                    <li key={i.name}>
                      <span class="mono">{i.name}</span> {(i.addresses.length ? i.addresses : [i.ip]).filter(Boolean).join(', ') || 'no address'}
                      <span class="muted"> · {i.network}{i.vlan ? ` · VLAN ${i.vlan}` : ''}</span>
                    </li>
                  ))}
                </ul>
              </div>
              <div class="host-actions">
                <button type="button" class="primary" onClick={() => openHost(h.name)} aria-label={`Terminal on ${h.name}`}>
                  Terminal
                </button>
                {count > 0 && (
                  <button type="button" class="secondary small" onClick={() => openHost(h.name, true)} aria-label={`New terminal on ${h.name}`}>
                    New
                  </button>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      {open.length > 0 && (
        <div class="terms">
          <div class="tablist" role="tablist" aria-label="Open terminals" ref={tabs} onKeyDown={onTabKey}>
            {open.map((o) => (
              <button
                key={o.id}
                id={`tab-${o.id}`}
                type="button"
                role="tab"
                class="tab"
                aria-selected={o.id === active}
                aria-controls={`panel-${o.id}`}
                tabIndex={o.id === active ? 0 : -1}
                onClick={() => setActive(o.id)}
              >
                <span class="mono">{o.label}</span>
              </button>
            ))}
          </div>
          {open.map((o) => (
            <TermPanel key={o.id} o={o} active={o.id === active} onClose={() => close(o.id)} />
          ))}
        </div>
      )}
    </section>
  );
}

/** On-screen keys that phone keyboards lack: [visible label, bytes, accessible name if the label is a symbol]. */
const KEYS: [string, string, string | undefined][] = [
  ['Esc', '\x1b', undefined],
  ['Tab', '\t', undefined],
  ['Ctrl-C', '\x03', 'Ctrl-C (stop)'],
  ['Ctrl-D', '\x04', 'Ctrl-D (end of input)'],
  ['↑', '\x1b[A', 'Up arrow (previous command)'],
  ['↓', '\x1b[B', 'Down arrow'],
];

function stateText(s: TermState): string {
  switch (s.kind) {
    case 'loading': return 'Loading terminal…';
    case 'connecting': return 'Connecting…';
    case 'open': return 'Connected';
    case 'reconnecting': return `Connection lost: reconnecting… (attempt ${s.attempt})`;
    case 'closed': return s.message;
  }
}

function TermPanel(props: { o: Open; active: boolean; onClose: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  const handle = useRef<TermHandle | null>(null);
  const [state, setState] = useState<TermState>({ kind: 'loading' });

  useEffect(() => {
    let dead = false;
    import('../term/terminal.js')
      .then((m) => m.openTerminal(box.current!, props.o.host, (s) => { if (!dead) setState(s); }))
      .then((h) => {
        if (dead) { h.dispose(); return; }
        handle.current = h;
        h.focus();
      })
      .catch(() => { if (!dead) setState({ kind: 'closed', message: 'The terminal could not load. Reload the page and try again.', canRetry: false }); });
    return () => { dead = true; handle.current?.dispose(); handle.current = null; };
  }, []);

  useEffect(() => {
    if (props.active) { handle.current?.fit(); handle.current?.focus(); }
  }, [props.active]);

  return (
    <div
      id={`panel-${props.o.id}`}
      role="tabpanel"
      aria-labelledby={`tab-${props.o.id}`}
      class="term-panel"
      hidden={!props.active}
    >
      <div class="term-bar">
        <p class={`term-state ts-${state.kind}`} role="status">{stateText(state)}</p>
        {state.kind === 'closed' && state.canRetry && (
          <button type="button" class="secondary small" onClick={() => handle.current?.retry()}>Connect again</button>
        )}
        <button type="button" class="secondary small" onClick={props.onClose} aria-label={`Close terminal ${props.o.label}`}>Close</button>
      </div>
      <div class="term-box" ref={box} />
      <div class="keybar" role="group" aria-label="Extra keys">
        {KEYS.map(([label, seq, name]) => (
          <button key={label} type="button" class="key" aria-label={name} onClick={() => handle.current?.send(seq)}>{label}</button>
        ))}
      </div>
    </div>
  );
}
