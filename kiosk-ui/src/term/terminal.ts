// The terminal chunk: xterm.js + fit addon + our WebSocket glue. Loaded with import() only when
// a student opens a terminal, together with its stylesheet (__TERMINAL_CSS__, set by build.mjs).
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import type { TerminalResize } from '../../../agent/web/api-types.js';
import type { TermHandle, TermState } from './types.js';

/**
 * xterm.js's DOM renderer writes its theme and cell sizes into <style> elements it creates, which
 * the agent's CSP (style-src 'self', no 'unsafe-inline') blocks: the terminal text would lose its
 * colours and alignment, and every update would log a CSP violation. CSSOM is not subject to CSP,
 * so for the elements xterm asks for, we hand out an inert element whose textContent feeds a
 * constructable stylesheet adopted by the document (Chrome 73+, Firefox 101+, Safari 16.4+).
 * Only 'style' elements are redirected; nothing else on these pages creates one.
 */
function cspSafeStyleElements(): void {
  if (typeof CSSStyleSheet === 'undefined' || !('adoptedStyleSheets' in Document.prototype) || !('replaceSync' in CSSStyleSheet.prototype)) return;
  const create = document.createElement.bind(document);
  document.createElement = ((tag: string, options?: ElementCreationOptions) => {
    if (String(tag).toLowerCase() !== 'style') return create(tag, options);
    const el = create('dl-xterm-style');
    const sheet = new CSSStyleSheet();
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    let text = '';
    Object.defineProperty(el, 'textContent', {
      get: () => text,
      set: (v: unknown) => { text = v == null ? '' : String(v); sheet.replaceSync(text); },
    });
    const remove = el.remove.bind(el);
    el.remove = () => { document.adoptedStyleSheets = document.adoptedStyleSheets.filter((x) => x !== sheet); remove(); };
    return el;
  }) as typeof document.createElement;
}
cspSafeStyleElements();

let css: Promise<void> | null = null;
function loadCss(): Promise<void> {
  css ??= new Promise((resolve) => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = __TERMINAL_CSS__;
    link.onload = () => resolve();
    link.onerror = () => resolve(); // the terminal still works, only less tidy
    document.head.appendChild(link);
  });
  return css;
}

/** Close codes after which reconnecting would not help: say why instead. */
function finalClose(code: number, reason: string): { message: string; canRetry: boolean } | null {
  switch (code) {
    case 1000: return { message: 'The shell ended.', canRetry: true };
    case 4401: return { message: 'Your session ended. Reload the page and join your group again.', canRetry: false };
    case 4403: return { message: 'This host belongs to another group: you can only open your own group’s hosts.', canRetry: false };
    case 4404: return { message: 'This host is not part of the running lesson (the lesson may have changed).', canRetry: false };
    case 4429: return { message: 'Too many terminals are open. Close one (here or on another device) and try again.', canRetry: true };
    default:
      if (code >= 4000 && code < 5000) return { message: reason || `The appliance closed the terminal (code ${code}).`, canRetry: true };
      return null; // 1001 (agent restarting), 1006 (network blip), ...: reconnect
  }
}

const DIM = (s: string) => `\r\n\x1b[2m[${s}]\x1b[0m\r\n`;

export async function openTerminal(box: HTMLElement, host: string, onState: (s: TermState) => void): Promise<TermHandle> {
  await loadCss();
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace',
    fontSize: box.clientWidth < 520 ? 13 : 14,
    scrollback: 3000,
    theme: { background: '#101418', foreground: '#e6e9ee', cursor: '#ffcc4d', selectionBackground: '#3a5a80' },
  });
  const fitAddon = new FitAddon();
  term.loadAddon(fitAddon);
  term.open(box);

  let ws: WebSocket | null = null;
  let attempt = 0;
  let opened = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;

  const fit = () => {
    if (disposed || box.clientWidth === 0 || box.clientHeight === 0) return; // hidden tab
    try { fitAddon.fit(); } catch { /* not measurable yet */ }
  };
  const sendResize = () => {
    if (ws?.readyState !== WebSocket.OPEN) return;
    const msg: TerminalResize = { type: 'resize', cols: term.cols, rows: term.rows };
    ws.send(JSON.stringify(msg));
  };

  const connect = () => {
    clearTimeout(timer);
    if (disposed) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/terminal?host=${encodeURIComponent(host)}`;
    const sock = new WebSocket(url);
    ws = sock;
    sock.binaryType = 'arraybuffer';
    onState(attempt > 0 ? { kind: 'reconnecting', attempt } : { kind: 'connecting' });
    sock.onopen = () => {
      if (opened) term.write(DIM('reconnected: this is a new shell'));
      opened = true;
      attempt = 0;
      onState({ kind: 'open' });
      fit();
      sendResize();
    };
    sock.onmessage = (ev: MessageEvent<ArrayBuffer | string>) => {
      term.write(typeof ev.data === 'string' ? ev.data : new Uint8Array(ev.data));
    };
    sock.onclose = (ev) => {
      if (disposed || ws !== sock) return;
      ws = null;
      const final = finalClose(ev.code, ev.reason);
      if (final) {
        term.write(DIM(final.message));
        onState({ kind: 'closed', ...final });
        return;
      }
      if (attempt === 0) term.write(DIM('connection lost: reconnecting…'));
      attempt += 1;
      onState({ kind: 'reconnecting', attempt });
      timer = setTimeout(connect, Math.min(10_000, 500 * 2 ** Math.min(attempt, 5)));
    };
  };

  const onOnline = () => { if (!ws && attempt > 0) connect(); };
  window.addEventListener('online', onOnline);
  term.onData((d) => { if (ws?.readyState === WebSocket.OPEN) ws.send(d); });
  term.onResize(sendResize);
  let frame = 0;
  const ro = new ResizeObserver(() => { cancelAnimationFrame(frame); frame = requestAnimationFrame(fit); });
  ro.observe(box);
  fit();
  connect();

  return {
    fit,
    focus: () => term.focus(),
    send: (d) => { if (ws?.readyState === WebSocket.OPEN) ws.send(d); term.focus(); },
    retry: () => { attempt = 0; opened = false; term.write(DIM('connecting again…')); connect(); },
    dispose: () => {
      disposed = true;
      clearTimeout(timer);
      cancelAnimationFrame(frame);
      ro.disconnect();
      window.removeEventListener('online', onOnline);
      ws?.close(1000);
      ws = null;
      term.dispose();
    },
  };
}
