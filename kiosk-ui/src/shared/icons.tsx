// Small inline SVG icons (decorative: every icon sits beside text that says the same).
import type { TaskStatus } from '../../../agent/web/api-types.js';

const P: Record<TaskStatus, string> = {
  pass: 'M4 10.5l4 4 8-9',
  fail: 'M5 5l10 10M15 5L5 15',
  error: 'M10 4v8M10 15.5v.5',
  unknown: 'M5 10h.01M10 10h.01M15 10h.01',
};

export function StatusIcon({ status }: { status: TaskStatus }) {
  return (
    <svg class="icon" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" focusable="false">
      <path d={P[status]} fill="none" stroke="currentColor" stroke-width={status === 'unknown' ? 3.2 : 2.4} stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}
