// Captures the lesson lets the group make (lesson.yaml `controls.capture`): per interface a length
// and a Capture button; one capture at a time, shown live (shared/capture.tsx). After a reload the
// panel picks up a capture that is still recording.
import { useEffect, useState } from 'preact/hooks';
import type { CaptureView } from '../../../agent/web/api-types.js';
import { ApiFailure } from '../shared/api.js';
import { CAPTURE_SECONDS, CaptureLive, captures } from '../shared/capture.js';

export function Capture(props: { targets: string[] }) {
  const [current, setCurrent] = useState<CaptureView | null>(null);
  const [fresh, setFresh] = useState(false);
  const [seconds, setSeconds] = useState<Record<string, number>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    captures.list().then((all) => {
      const rec = all.find((c) => c.state === 'recording' && props.targets.includes(c.target));
      if (rec) setCurrent((c) => c ?? rec);
    }, () => { /* the panel works without it */ });
  }, []);

  const start = async (target: string) => {
    if (busy) return;
    setBusy(target);
    setProblem(null);
    try {
      const v = await captures.start({ target, seconds: seconds[target] ?? 30 });
      setFresh(true);
      setCurrent(v);
    } catch (e) {
      setProblem(e instanceof ApiFailure ? e.message : 'The capture did not start.');
    } finally { setBusy(null); }
  };
  const recording = current?.state === 'recording';

  return (
    <section id="capture" class="card" aria-labelledby="capture-h" data-testid="capture">
      <h2 id="capture-h" class="section-h">Capture</h2>
      <p class="help">Record the frames an interface sends and receives, and see them here. The pcap file opens in Wireshark.</p>
      <ul class="cap-targets">
        {props.targets.map((t) => (
          <li key={t} class="cap-target">
            <span class="mono switch-target">{t}</span>
            <label class="cap-len">
              <span class="vh">Length of a capture on {t}</span>
              <select value={String(seconds[t] ?? 30)} onChange={(e) => setSeconds({ ...seconds, [t]: Number((e.currentTarget as HTMLSelectElement).value) })}>
                {CAPTURE_SECONDS.map((s) => <option key={s} value={String(s)}>{s} s</option>)}
              </select>
            </label>
            <button type="button" class="primary" data-testid={`capture-start-${t}`} disabled={recording} onClick={() => start(t)}>
              {busy === t ? 'Starting…' : 'Capture'}<span class="vh"> {t}</span>
            </button>
          </li>
        ))}
      </ul>
      {recording && <p class="help cap-one">One capture at a time: stop this one to start another.</p>}
      {problem && <p class="error" role="alert">{problem}</p>}
      {current && <CaptureLive key={current.id} view={current} onView={setCurrent} focusStop={fresh} />}
    </section>
  );
}
