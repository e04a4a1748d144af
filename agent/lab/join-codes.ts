// Join codes: one short code per student group, made when a lesson starts and kept in lab.json.
// Letters and digits that cannot be mistaken for one another (no 0/O, 1/I): easy to read aloud
// and to type on a phone. 6 of 32 symbols = 30 bits; wrong guesses are rate-limited by the web side.
import { randomInt } from 'node:crypto';

export const JOIN_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const JOIN_CODE_LENGTH = 6;

/** A fresh code per group 1..groups, all different; keyed by the group number as a string. */
export function newJoinCodes(groups: number, pick: (n: number) => number = randomInt): Record<string, string> {
  const out: Record<string, string> = {};
  const used = new Set<string>();
  for (let g = 1; g <= groups; g++) {
    let code: string;
    do {
      code = Array.from({ length: JOIN_CODE_LENGTH }, () => JOIN_ALPHABET[pick(JOIN_ALPHABET.length)]!).join('');
    } while (used.has(code));
    used.add(code);
    out[String(g)] = code;
  }
  return out;
}

/** What a person typed, as a code: case and whitespace (and dashes) do not matter. */
export const normaliseJoinCode = (typed: string) => typed.replace(/[\s-]+/g, '').toUpperCase();

/** The group whose code this is, or undefined. Compares every code in full (no early exit on a near miss). */
export function groupOfJoinCode(codes: Record<string, string> | undefined, typed: string): number | undefined {
  const want = normaliseJoinCode(typed);
  let found: number | undefined;
  for (const [g, code] of Object.entries(codes ?? {})) {
    let diff = code.length ^ want.length;
    for (let i = 0; i < code.length; i++) diff |= code.charCodeAt(i) ^ (want.charCodeAt(i) || 0);
    if (diff === 0) found = Number(g);
  }
  return found;
}

/** Lines `group N: CODE` for people (the teacher's CLI). */
export const formatJoinCodes = (codes: Record<string, string> | undefined) =>
  Object.entries(codes ?? {}).sort(([a], [b]) => Number(a) - Number(b)).map(([g, c]) => `group ${g}: ${c}`).join('\n');
