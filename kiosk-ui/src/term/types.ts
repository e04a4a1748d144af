// What the terminal chunk reports to the page. Types only, so importing them never pulls xterm.js in.

export type TermState =
  | { kind: 'loading' }
  | { kind: 'connecting' }
  | { kind: 'open' }
  | { kind: 'reconnecting'; attempt: number }
  | { kind: 'closed'; message: string; canRetry: boolean };

export interface TermHandle {
  /** Fit the terminal to its box (no-op while the box is hidden). */
  fit(): void;
  focus(): void;
  /** Send raw input (the on-screen key bar: Esc, Tab, Ctrl-C, arrows). */
  send(data: string): void;
  /** Connect again after a close that needs the student's say (shell ended, too many terminals). */
  retry(): void;
  dispose(): void;
}
