import type { TaskStatus, TaskView } from '../../../agent/web/api-types.js';
import { StatusIcon } from '../shared/icons.js';

const LABEL: Record<TaskStatus, string> = {
  pass: 'Done',
  fail: 'Not yet',
  error: 'Check failed',
  unknown: 'Not checked yet',
};

function time(iso: string | undefined): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function Tasks(props: { tasks: TaskView[]; checkedAt?: string; loaded: boolean }) {
  const done = props.tasks.filter((t) => t.status === 'pass').length;
  const at = time(props.checkedAt);
  return (
    <section id="tasks" class="card" aria-labelledby="tasks-h">
      <div class="section-head">
        <h2 id="tasks-h" class="section-h">Tasks</h2>
        {props.loaded && (
          <p class="tally" role="status">
            <strong>{done} of {props.tasks.length}</strong> done{at && <span class="muted"> · checked {at}</span>}
          </p>
        )}
      </div>
      {props.loaded && props.tasks.length === 0 && <p class="muted">This lesson has no automatic checks.</p>}
      <ol class="tasks">
        {props.tasks.map((t) => (
          <li key={t.id} class={`task st-${t.status}`}>
            <span class="status">
              <StatusIcon status={t.status} />
              <span class="status-text">{LABEL[t.status]}</span>
            </span>
            <div class="task-body">
              <p class="task-title">{t.title}</p>
              {(t.status === 'fail' || t.status === 'error') && t.reason && (
                <p class="reason"><span class="vh">Why: </span>{t.reason}</p>
              )}
              {t.hint && (
                <details class="hint">
                  <summary>Hint</summary>
                  <p>{t.hint}</p>
                </details>
              )}
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}
