// Which Faucet config changes need Faucet's own pre-check. Pure.
import { parse } from 'yaml';

type Doc = { dps?: Record<string, { interfaces?: Record<string, Record<string, unknown>> }>; acls?: Record<string, unknown> };

/** The config with the per-port lists that live operations swap (ACLs, mirror sources) removed. */
function skeleton(d: Doc): unknown {
  const copy = structuredClone(d);
  for (const dp of Object.values(copy.dps ?? {})) {
    for (const i of Object.values(dp.interfaces ?? {})) { delete i.acls_in; delete i.mirror; }
  }
  return copy;
}

/**
 * True when `next` differs from the live, already-checked config only in ports' acls_in and
 * mirror lists, and every ACL they name is defined: such a swap cannot introduce a new error,
 * so it may skip check_faucet_config (the reload is still confirmed, or rolled back).
 */
export function onlyListsSwapped(liveText: string, nextText: string): boolean {
  const live = parse(liveText) as Doc; const next = parse(nextText) as Doc;
  if (JSON.stringify(skeleton(live)) !== JSON.stringify(skeleton(next))) return false;
  const defined = new Set(Object.keys(next.acls ?? {}));
  const ports = new Set(Object.values(next.dps ?? {}).flatMap((dp) => Object.keys(dp.interfaces ?? {})).map(Number));
  return Object.values(next.dps ?? {}).every((dp) => Object.values(dp.interfaces ?? {}).every((i) =>
    ((i.acls_in as string[] | undefined) ?? []).every((a) => defined.has(a))
    && ((i.mirror as number[] | undefined) ?? []).every((p) => ports.has(Number(p)))));
}
