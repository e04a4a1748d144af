// OVSDB's JSON encodings of values (RFC 7047 §5.1), pure: atoms are plain JSON; a set is an atom
// or ["set", [atoms]]; a map is ["map", [[k, v], …]]; a row reference is ["uuid", "…"]; a row
// inserted in the same transaction is ["named-uuid", "name"].

export type Uuid = ['uuid', string];
export type NamedUuid = ['named-uuid', string];
export type Atom = string | number | boolean | Uuid | NamedUuid;
export type OvsdbSet = Atom | ['set', Atom[]];
export type OvsdbMap = ['map', [Atom, Atom][]];
export type Value = OvsdbSet | OvsdbMap;

export class DecodeError extends Error {}

export const uuid = (u: string): Uuid => ['uuid', u];
export const namedUuid = (n: string): NamedUuid => ['named-uuid', n];
export const set = (atoms: Atom[]): ['set', Atom[]] => ['set', atoms];
export const map = (m: Record<string, string>): OvsdbMap => ['map', Object.entries(m)];

const isTagged = (v: unknown, tag: string): v is [string, unknown] =>
  Array.isArray(v) && v.length === 2 && v[0] === tag;

/** The uuid string of ["uuid", u]; what = the column, for the error. */
export function decodeUuid(v: unknown, what: string): string {
  if (isTagged(v, 'uuid') && typeof v[1] === 'string') return v[1];
  throw new DecodeError(`${what}: expected ["uuid", …], got ${JSON.stringify(v)}`);
}

/** The atoms of a set column (a lone atom is a set of one). */
export function decodeSet(v: unknown, what: string): Atom[] {
  if (isTagged(v, 'set')) {
    if (!Array.isArray(v[1])) throw new DecodeError(`${what}: ["set", …] without a list: ${JSON.stringify(v)}`);
    return v[1] as Atom[];
  }
  if (v === undefined || v === null || (Array.isArray(v) && !isTagged(v, 'uuid') && !isTagged(v, 'named-uuid'))) {
    throw new DecodeError(`${what}: expected an atom or ["set", …], got ${JSON.stringify(v)}`);
  }
  return [v as Atom];
}

/** A set of uuids (a column of row references). */
export const decodeUuidSet = (v: unknown, what: string): string[] => decodeSet(v, what).map((a) => decodeUuid(a, what));

/** An optional column (set of at most one): its atom, or undefined when empty. */
export function decodeOptional<T extends Atom>(v: unknown, what: string): T | undefined {
  const atoms = decodeSet(v, what);
  if (atoms.length > 1) throw new DecodeError(`${what}: expected at most one value, got ${atoms.length}`);
  return atoms[0] as T | undefined;
}

/** A string-to-string map column. */
export function decodeMap(v: unknown, what: string): Record<string, string> {
  if (!isTagged(v, 'map') || !Array.isArray(v[1])) throw new DecodeError(`${what}: expected ["map", …], got ${JSON.stringify(v)}`);
  const out: Record<string, string> = {};
  for (const pair of v[1] as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new DecodeError(`${what}: a map entry is not a [key, value] pair: ${JSON.stringify(pair)}`);
    out[String(pair[0])] = String(pair[1]);
  }
  return out;
}
