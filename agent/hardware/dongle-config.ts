// Changing a dongle's role in the appliance config (for the instructor console): a pure edit of
// the YAML text that keeps the teacher's comments and order, validated by the config schema,
// and a thin writer that replaces the file atomically.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from 'yaml';
import { ConfigError, HardwareSchema } from '../config.js';
import { writeAtomic } from '../sys/files.js';
import type { DongleMatch, DongleRoleName } from './roles.js';

export type DongleChange =
  | { match: DongleMatch; role: DongleRoleName; name?: string }
  | { match: DongleMatch; remove: true };

const key = (m: DongleMatch) => ('mac' in m ? ['mac', m.mac.toLowerCase().replace(/-/g, ':')] as const : ['usb_path', m.usbPath] as const);

/**
 * Pure: the config text with `hardware.dongles` changed: the entry with the same USB port (or
 * MAC) gets the role (and name, when given), or is added; `remove` drops it (the dongle falls
 * back to the defaults). The result is validated; errors name the file and the field.
 */
export function editDongleConfig(text: string, change: DongleChange, file = 'the appliance config'): string {
  const doc = parseDocument(text.trim() ? text : '{}');
  if (doc.errors.length) throw new ConfigError(`${file}: ${doc.errors[0]!.message}`);
  if (!isMap(doc.contents)) throw new ConfigError(`${file}: expected a mapping of settings`);
  let hw = doc.get('hardware');
  if (hw === undefined || hw === null) { hw = new YAMLMap(); doc.set('hardware', hw); }
  if (!isMap(hw)) throw new ConfigError(`${file}: hardware: expected a mapping`);
  let list = hw.get('dongles');
  if (list === undefined || list === null) { list = new YAMLSeq(); hw.set('dongles', list); }
  if (!isSeq(list)) throw new ConfigError(`${file}: hardware.dongles: expected a list`);
  const [k, v] = key(change.match);
  const idx = list.items.findIndex((it) => isMap(it) && String(it.get(k) ?? '').toLowerCase() === v.toLowerCase());
  if ('remove' in change) {
    if (idx < 0) throw new ConfigError(`${file}: hardware.dongles has no entry with ${k} ${v}`);
    list.items.splice(idx, 1);
  } else if (idx >= 0) {
    const entry = list.items[idx] as YAMLMap;
    entry.set('role', change.role);
    if (change.name) entry.set('name', change.name);
  } else {
    list.add(doc.createNode({ [k]: v, ...(change.name ? { name: change.name } : {}), role: change.role }));
  }
  const parsed = HardwareSchema.safeParse((doc.toJS() as { hardware: unknown }).hardware);
  if (!parsed.success) {
    throw new ConfigError(`${file}: ${parsed.error.issues.map((i) => `hardware.${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return doc.toString();
}

/**
 * Applies a change to the config file (created when missing) and writes it atomically, keeping
 * its mode (it may hold the instructor's password hash). Returns the new text.
 */
export function updateDongleConfig(file: string, change: DongleChange): string {
  const exists = existsSync(file);
  const text = editDongleConfig(exists ? readFileSync(file, 'utf8') : '', change, file);
  writeAtomic(file, text, exists ? statSync(file).mode & 0o777 : 0o600);
  return text;
}
