// Student sessions: a cookie naming group + lab run, signed with HMAC-SHA256 under the appliance's
// web secret (<dataDir>/web-secret, made once, 0600). A session belongs to one run of one lab:
// once the lab is taken down or started again, the cookie is worth nothing.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeAtomic } from '../sys/files.js';
import type { LabState } from '../lab/state.js';

export const SESSION_COOKIE = 'dovelab_session';

export interface Session { group: number; lab: string; startedAt: string }

/** The secret in `file`, made (32 random bytes, hex, mode 0600, durably) when there is none. */
export function loadWebSecret(file: string): Buffer {
  if (existsSync(file)) {
    const hex = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex');
  }
  const secret = randomBytes(32);
  writeAtomic(file, secret.toString('hex') + '\n', 0o600);
  return secret;
}

/** HMAC of a payload under the web secret; `label` keeps one kind of cookie from passing as another. */
export const macOf = (secret: Buffer, payload: string, label = '') =>
  createHmac('sha256', secret).update(label ? `${label}\n${payload}` : payload).digest('base64url');

/** `payload.signature` with the payload as base64url JSON. */
export function signPayload(secret: Buffer, o: object, label = ''): string {
  const payload = Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${payload}.${macOf(secret, payload, label)}`;
}

/** The JSON payload of a signed cookie value, if its signature is ours (constant-time compare); else undefined. */
export function readSigned(secret: Buffer, value: string | undefined, label = ''): Record<string, unknown> | undefined {
  if (!value || value.length > 1024) return undefined;
  const [payload, sig, ...rest] = value.split('.');
  if (!payload || !sig || rest.length) return undefined;
  const want = Buffer.from(macOf(secret, payload, label));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
  try {
    const o = JSON.parse(Buffer.from(payload, 'base64url').toString()) as unknown;
    return o && typeof o === 'object' && !Array.isArray(o) ? o as Record<string, unknown> : undefined;
  } catch { return undefined; }
}

export function signSession(secret: Buffer, s: Session): string {
  return signPayload(secret, { g: s.group, l: s.lab, s: s.startedAt });
}

/** The session in a cookie value, if its signature is ours; says nothing yet about the lab. */
export function readSession(secret: Buffer, value: string | undefined): Session | undefined {
  const o = readSigned(secret, value);
  if (!o || typeof o.g !== 'number' || !Number.isInteger(o.g) || typeof o.l !== 'string' || typeof o.s !== 'string') return undefined;
  return { group: o.g, lab: o.l, startedAt: o.s };
}

export const sessionValid = (s: Session | undefined, st: LabState | undefined): s is Session =>
  !!s && !!st && s.lab === st.lab && s.startedAt === st.startedAt && s.group >= 1 && s.group <= st.groups;
