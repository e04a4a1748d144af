// /boot/firmware/dovelab.yaml: the settings a teacher writes on the SD card's boot partition (any
// computer can edit it) before the first boot. Pure: parse and validate the file, then plan the
// files that carry each setting into the system. `boot-apply.ts` reads and writes them.
import { createHash } from 'node:crypto';
import { Document, isMap, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigSchema } from '../config.js';

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
/** Interface names the appliance's `.link` files give dongles (never eth*). */
const DONGLE = /^(?!eth)[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;

export const BootConfigSchema = z.strictObject({
  /** The appliance's name: its hostname, `<name>.local`, and the name on the kiosk. */
  name: z.string().regex(HOSTNAME, 'a host name: letters, digits and dashes, at most 63, no dash at either end').optional(),
  /** The instructor console's password, in plain text here; hashed into the appliance config and removed from this file at boot. */
  instructor_password: z.union([
    z.string().min(8, 'at least 8 characters').max(256, 'at most 256 characters'),
    z.literal(''), z.null(),
  ]).optional(),
  /** Management Wi-Fi (never used by lessons). */
  wifi: z.strictObject({
    ssid: z.string().min(1, 'the network name is empty').max(32, 'at most 32 characters')
      .regex(/^[^\x00-\x1f\x7f]*$/, 'no control characters or line breaks'),
    /** WPA2/WPA3 personal passphrase; leave it out for an open network. */
    psk: z.string().min(8, '8 to 63 characters').max(63, '8 to 63 characters')
      .regex(/^[\x20-\x7e]*$/, 'printable ASCII only').optional(),
    /** Two-letter country code: the Wi-Fi channels allowed where the appliance is. */
    country: z.string().regex(/^[A-Z]{2}$/, 'two capital letters, e.g. GB, DE, FR'),
  }).optional(),
  /** Roles of the dongles by the names the image gives them (up0, mir0, lab1, ...). */
  dongles: z.record(z.string(), z.enum(['uplink', 'mirror', 'lab', 'unused'])).superRefine((roles, ctx) => {
    for (const name of Object.keys(roles)) {
      if (!DONGLE.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'an interface name such as up0, mir0 or lab1 (never eth*)' });
    }
  }).optional(),
  /** A lesson to bring up at boot when no lab is running (an installed or bundled lesson id). */
  lesson: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a lesson id such as first-switch').optional(),
});
export type BootConfig = z.infer<typeof BootConfigSchema>;

export class BootConfigError extends Error {}

/** Parses the boot file; every error names the file and the field. */
export function parseBootConfig(text: string, file: string): BootConfig {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new BootConfigError(`${file}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const raw = doc.toJS() as unknown;
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new BootConfigError(`${file}: expected settings (name:, instructor_password:, wifi:, dongles:, lesson:)`);
  }
  const parsed = BootConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new BootConfigError(`${file}: ${why}`);
  }
  return parsed.data;
}

/** What the system holds now (file texts; undefined when absent). */
export interface BootState {
  bootText: string;
  appliance?: string;
  hostname?: string;
  hosts?: string;
  cmdline?: string;
  bootLesson?: string;
  wifiConnection?: string;
}

export interface FileWrite { path: string; content: string; mode: number }
export interface BootPlan {
  writes: FileWrite[];
  removes: string[];
  /** The name to give the running system (hostname), when it changes. */
  hostname?: string;
  notes: string[];
}

export const BOOT_PATHS = {
  appliance: '/etc/dovelab/dovelab.yaml',
  hostname: '/etc/hostname',
  hosts: '/etc/hosts',
  cmdline: '/boot/firmware/cmdline.txt',
  bootLesson: '/etc/dovelab/boot-lesson',
  wifi: '/etc/NetworkManager/system-connections/dovelab-wifi.nmconnection',
} as const;

/**
 * The files that carry `boot` into the system. `passwordHash` is the hash of
 * `boot.instructor_password` (made by the caller: hashing is random and slow); `bootFile` is the
 * boot file's own path (rewritten without the plain-text password); `today` goes into its note.
 */
export function planBootConfig(boot: BootConfig, s: BootState, o: { passwordHash?: string; bootFile: string; today: string }): BootPlan {
  const plan: BootPlan = { writes: [], removes: [], notes: [] };
  const write = (path: string, content: string, old: string | undefined, mode = 0o644) => {
    if (content !== old) plan.writes.push({ path, content, mode });
  };
  const password = boot.instructor_password || undefined;
  if (password && !o.passwordHash) throw new BootConfigError('instructor_password: given, but no hash was made of it');

  // The appliance config: only the keys the boot file sets change; comments and the rest stay.
  const appliance: Document = s.appliance?.trim() ? parseDocument(s.appliance) : new Document({});
  if (appliance.errors.length) throw new BootConfigError(`${BOOT_PATHS.appliance}: not valid YAML: ${appliance.errors[0]!.message.split('\n')[0]}`);
  if (!isMap(appliance.contents)) throw new BootConfigError(`${BOOT_PATHS.appliance}: expected a mapping of settings`);
  if (boot.name) appliance.setIn(['web', 'name'], boot.name);
  if (password) appliance.setIn(['web', 'instructor_password_hash'], o.passwordHash);
  if (boot.dongles) {
    const roles = Object.fromEntries(Object.entries(boot.dongles).filter(([, r]) => r !== 'unused'));
    appliance.set('dongles', appliance.createNode(roles));
  }
  const merged = ConfigSchema.safeParse(appliance.toJS() ?? {});
  if (!merged.success) {
    const why = merged.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new BootConfigError(`${BOOT_PATHS.appliance} would become invalid: ${why}`);
  }
  const applianceText = appliance.toString();
  if (s.appliance !== undefined || boot.name || password || boot.dongles) write(BOOT_PATHS.appliance, applianceText, s.appliance, 0o600);

  if (boot.name) {
    const name = boot.name.toLowerCase();
    write(BOOT_PATHS.hostname, `${name}\n`, s.hostname);
    if (s.hostname?.trim() !== name) plan.hostname = name;
    write(BOOT_PATHS.hosts, hostsWithName(s.hosts ?? '127.0.0.1\tlocalhost\n', name), s.hosts);
  }

  if (boot.wifi) {
    write(BOOT_PATHS.wifi, wifiConnection(boot.wifi), s.wifiConnection, 0o600);
    if (s.cmdline !== undefined) write(BOOT_PATHS.cmdline, cmdlineWith(s.cmdline, { 'cfg80211.ieee80211_regdom': boot.wifi.country }), s.cmdline);
    else plan.notes.push(`${BOOT_PATHS.cmdline} not found: Wi-Fi country ${boot.wifi.country} not set on the kernel command line`);
  } else if (s.wifiConnection !== undefined) {
    plan.removes.push(BOOT_PATHS.wifi);
  }

  if (boot.lesson) write(BOOT_PATHS.bootLesson, `${boot.lesson}\n`, s.bootLesson);
  else if (s.bootLesson !== undefined) plan.removes.push(BOOT_PATHS.bootLesson);

  if (password) {
    write(o.bootFile, bootTextWithoutPassword(s.bootText, o.today), s.bootText);
    plan.notes.push(`instructor password saved (hashed) in ${BOOT_PATHS.appliance}; its text was removed from ${o.bootFile}`);
  }
  return plan;
}

/** /etc/hosts with `127.0.1.1 <name>` (Debian's line for the host's own name), other lines kept. */
export function hostsWithName(hosts: string, name: string): string {
  const own = /^127\.0\.1\.1\s/;
  const lines = hosts.trim() ? hosts.replace(/\n$/, '').split('\n') : [];
  const first = lines.findIndex((l) => own.test(l));
  const line = `127.0.1.1\t${name}`;
  if (first >= 0) return `${lines.map((l, i) => (i === first ? line : l)).filter((l, i) => i === first || !own.test(l)).join('\n')}\n`;
  const at = lines.findIndex((l) => /^127\.0\.0\.1\s/.test(l));
  lines.splice(at + 1, 0, line);
  return `${lines.join('\n')}\n`;
}

/** The kernel command line (one line) with each `key=value` set: replaced where present, else appended. */
export function cmdlineWith(cmdline: string, set: Record<string, string>): string {
  let words = cmdline.trim().split(/\s+/).filter(Boolean);
  for (const [k, v] of Object.entries(set)) {
    const word = `${k}=${v}`;
    const i = words.findIndex((w) => w === k || w.startsWith(`${k}=`));
    if (i < 0) words.push(word);
    else words = [...words.slice(0, i), word, ...words.slice(i + 1).filter((w) => !(w === k || w.startsWith(`${k}=`)))];
  }
  return `${words.join(' ')}\n`;
}

/** A NetworkManager keyfile for the management Wi-Fi (mode 0600: it holds the passphrase). */
export function wifiConnection(w: NonNullable<BootConfig['wifi']>): string {
  // A stable id: the same SSID keeps its connection (and NetworkManager's state of it) across boots.
  const h = createHash('sha256').update(`dovelab-wifi:${w.ssid}`).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  const lines = [
    '# Written by `dovelab boot-config apply` from /boot/firmware/dovelab.yaml (wifi:); edit that file instead.',
    '[connection]', 'id=dovelab-wifi', `uuid=${uuid}`, 'type=wifi', 'autoconnect=true', '',
    '[wifi]', 'mode=infrastructure', `ssid=${keyfileValue(w.ssid)}`, '',
    ...(w.psk ? ['[wifi-security]', 'key-mgmt=wpa-psk', `psk=${keyfileValue(w.psk)}`, ''] : []),
    '[ipv4]', 'method=auto', '', '[ipv6]', 'method=auto', '',
  ];
  return lines.join('\n');
}

/** GKeyFile escaping: backslash, and leading space (the rest of printable ASCII is literal). */
const keyfileValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/^ /, '\\s');

/**
 * The boot file with the plain-text password gone: its line becomes an empty value with a note
 * saying when it was saved and how to change it; every other line and comment stays.
 */
export function bootTextWithoutPassword(text: string, today: string): string {
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) return text;
  const pair = doc.contents.items.find((p) => (p.key as { value?: unknown } | null)?.value === 'instructor_password');
  if (!pair) return text;
  doc.set('instructor_password', '');
  const key = pair.key as { commentBefore?: string | null };
  const note = ` The password written here was saved on ${today} (hashed, in /etc/dovelab/dovelab.yaml) and removed`
    + '\n from this file. To change it, write a new one on the line below and restart the appliance.';
  const before = key.commentBefore ?? '';
  key.commentBefore = before.includes('was saved on') ? before.replace(/saved on [0-9-]+/, `saved on ${today}`) : before ? `${before}\n${note}` : note;
  return doc.toString();
}
