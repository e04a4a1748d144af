// Typed calls to the agent's JSON API (agent/web/api-types.ts is the contract).
import type { AclControlRequest, AclCountersView, ApiError, GroupView, JoinRequest, JoinResponse, KioskView, SessionView } from '../../../agent/web/api-types.js';

/** An API answer that was not 2xx: the HTTP status and the server's message. */
export class ApiFailure extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

let skewMs = 0;
/**
 * The appliance's clock now, from the Date header of its last answer: a Pi without network time
 * can be hours off the browser's clock, and times in the API (CaptureView.endsAt) are its own.
 */
export const serverNow = (): number => Date.now() + skewMs;

/** One JSON call to the agent; a non-2xx answer throws ApiFailure with the server's message. */
export async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiFailure(0, 'Cannot reach the appliance. Check the Wi-Fi and try again.');
  }
  const date = Date.parse(res.headers.get('date') ?? '');
  if (!Number.isNaN(date)) skewMs = date + 500 - Date.now(); // the header has whole seconds
  const text = await res.text();
  let data: unknown = undefined;
  try { data = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
  if (!res.ok) {
    const msg = (data as ApiError | undefined)?.error;
    throw new ApiFailure(res.status, typeof msg === 'string' && msg ? msg : `The appliance answered ${res.status}.`);
  }
  return data as T;
}

export const api = {
  session: () => call<SessionView>('GET', '/api/session'),
  join: (code: string) => call<JoinResponse>('POST', '/api/join', { code } satisfies JoinRequest),
  leave: () => call<unknown>('POST', '/api/leave'),
  group: () => call<GroupView>('GET', '/api/group'),
  kiosk: () => call<KioskView>('GET', '/api/kiosk'),
  setAcls: (target: string, acls: string[]) => call<GroupView>('POST', '/api/controls/acl', { target, acls } satisfies AclControlRequest),
  aclCounters: () => call<AclCountersView>('GET', '/api/controls/acl-counters'),
};
