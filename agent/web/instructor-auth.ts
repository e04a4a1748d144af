// The instructor's login: a password kept in the appliance config as a scrypt hash
// (`scrypt$N$r$p$saltB64$hashB64`), and a session cookie of its own (not a student's), signed with
// the web secret under a different label, that expires. A session also names the password hash it
// was made under: changing the password ends every instructor session.
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readSigned, signPayload } from './session.js';

export const INSTRUCTOR_COOKIE = 'dovelab_instructor';
/** How long a login lasts (a school day). */
export const INSTRUCTOR_SESSION_MS = 8 * 60 * 60 * 1000;

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 },
    (e, key) => (e ? reject(e) : resolve(key))));
}

/** The config line's value for `password`. */
export async function hashPassword(password: string, salt: Buffer = randomBytes(16)): Promise<string> {
  const key = await scryptAsync(password, salt, N, R, P, KEYLEN);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** True when `password` matches `hash` (constant time); false for a malformed hash too. */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash ?? '');
  if (!m) return false;
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Sane bounds: a hand-edited config must not make a login take minutes or gigabytes.
  if (n < 2 || n > 1 << 20 || (n & (n - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const want = Buffer.from(m[5]!, 'base64');
  if (want.length < 16 || want.length > 128) return false;
  try {
    const got = await scryptAsync(password, Buffer.from(m[4]!, 'base64'), n, r, p, want.length);
    return timingSafeEqual(got, want);
  } catch { return false; }
}

/** A short fingerprint of the configured hash (not the hash itself) that a session carries. */
const hashTag = (secret: Buffer, hash: string) => createHmac('sha256', secret).update(`instructor-hash\n${hash}`).digest('base64url').slice(0, 16);

export interface InstructorSession { expires: number }

export function signInstructor(secret: Buffer, passwordHash: string, expires: number): string {
  return signPayload(secret, { r: 'instructor', e: expires, h: hashTag(secret, passwordHash) }, 'instructor');
}

/** The session in a cookie value when it is ours, made under the current password, and not expired. */
export function readInstructor(secret: Buffer, passwordHash: string | undefined, value: string | undefined, now: number): InstructorSession | undefined {
  if (!passwordHash) return undefined;
  const o = readSigned(secret, value, 'instructor');
  if (!o || o.r !== 'instructor' || typeof o.e !== 'number' || o.h !== hashTag(secret, passwordHash)) return undefined;
  return o.e > now ? { expires: o.e } : undefined;
}
