// The switches the lesson gives the group (lesson.yaml `controls:`): ACLs on its own interfaces.
// Each is a toggle; the agent applies it through Faucet and answers with the new view.
import { useState } from 'preact/hooks';
import type { ControlsView, GroupView } from '../../../agent/web/api-types.js';
import { api, ApiFailure } from '../shared/api.js';
import { AclHits, rowsOf, useAclCounters } from '../shared/acl-hits.js';

export function Switches(props: { controls: ControlsView; onView: (v: GroupView) => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const counters = useAclCounters(api.aclCounters, props.controls.acls.some((c) => c.applied.length > 0));
  if (!props.controls.acls.length) return null;

  const toggle = async (target: string, applied: string[], acl: string) => {
    const next = applied.includes(acl) ? applied.filter((a) => a !== acl) : [...applied, acl];
    setBusy(`${target}/${acl}`);
    setProblem(null);
    try { props.onView(await api.setAcls(target, next)); } catch (e) {
      setProblem(e instanceof ApiFailure ? e.message : 'The switch did not answer.');
    } finally { setBusy(null); }
  };

  return (
    <section id="switches" class="card" aria-labelledby="switches-h">
      <h2 id="switches-h" class="section-h">Switches</h2>
      <p class="help">ACLs in the switch, for what these interfaces send. The lesson lets your group turn them on and off. Under a switch that is on: how many packets each rule matched (#rule, action, match, count).</p>
      <ul class="switches">
        {props.controls.acls.map((c) => (
          <li key={c.target} class="switch-row">
            <span class="mono switch-target">{c.target}</span>
            <span class="switch-options">
              {c.options.map((acl) => {
                const on = c.applied.includes(acl);
                return (
                  <button
                    key={acl}
                    type="button"
                    class={on ? 'toggle on' : 'toggle'}
                    aria-pressed={on ? 'true' : 'false'}
                    disabled={busy !== null}
                    onClick={() => toggle(c.target, c.applied, acl)}
                  >
                    {busy === `${c.target}/${acl}` ? `${acl}…` : `${acl}: ${on ? 'on' : 'off'}`}
                  </button>
                );
              })}
            </span>
            {c.applied.map((acl) => <AclHits key={acl} label={`${acl} on ${c.target}`} rows={rowsOf(counters.rows, c.target, acl)} hist={counters.hist} />)}
          </li>
        ))}
      </ul>
      {problem && <p class="error" role="alert">{problem}</p>}
    </section>
  );
}
