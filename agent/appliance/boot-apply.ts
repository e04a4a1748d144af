// `dovelab boot-config apply`: reads /boot/firmware/dovelab.yaml and the files it changes, lets
// boot-config.ts plan, writes the plan (atomically) and names the running system. `root` puts every
// path under a directory (tests, or preparing an image's root file system).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '../web/instructor-auth.js';
import { writeAtomic } from '../sys/files.js';
import { run } from '../sys/run.js';
import { BOOT_PATHS, parseBootConfig, planBootConfig, type BootState } from './boot-config.js';

import { BOOT_FILE } from './locations.js';

export { BOOT_FILE };

export interface ApplyReport { file: string; changed: string[]; removed: string[]; notes: string[]; found: boolean }

export async function applyBootConfig(o: { root?: string; file?: string; log?: (s: string) => void } = {}): Promise<ApplyReport> {
  const root = o.root ?? '/';
  const at = (p: string) => (root === '/' ? p : join(root, p));
  const file = o.file ?? at(BOOT_FILE);
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);
  const bootText = read(file);
  if (bootText === undefined) return { file, changed: [], removed: [], notes: [`${file}: absent; nothing to apply`], found: false };
  const boot = parseBootConfig(bootText, file);
  const state: BootState = {
    bootText,
    appliance: read(at(BOOT_PATHS.appliance)),
    hostname: read(at(BOOT_PATHS.hostname)),
    hosts: read(at(BOOT_PATHS.hosts)),
    cmdline: read(at(BOOT_PATHS.cmdline)),
    bootLesson: read(at(BOOT_PATHS.bootLesson)),
    wifiConnection: read(at(BOOT_PATHS.wifi)),
  };
  const password = boot.instructor_password || undefined;
  const plan = planBootConfig(boot, state, {
    passwordHash: password ? await hashPassword(password) : undefined,
    bootFile: file,
    today: new Date().toISOString().slice(0, 10),
  });
  // The boot file last: if anything before fails, the password is still there for the next boot.
  const ordered = [...plan.writes.filter((w) => w.path !== file), ...plan.writes.filter((w) => w.path === file)];
  for (const w of ordered) writeAtomic(w.path === file ? file : at(w.path), w.content, w.mode);
  for (const p of plan.removes) rmSync(at(p), { force: true });
  const notes = [...plan.notes];
  if (root === '/') {
    // The running system's name now (what `hostname NAME` does); /etc/hostname holds it for the next boots.
    if (plan.hostname) writeFileSync('/proc/sys/kernel/hostname', plan.hostname);
    // Raspberry Pi OS keeps Wi-Fi blocked (rfkill) until a country is set; raspi-config unblocks it.
    if (boot.wifi) {
      const r = await run(['rfkill', 'unblock', 'wifi'], { timeoutMs: 5_000, allowFail: true }).catch((e: Error) => ({ code: -1, stderr: e.message }));
      if (r.code !== 0) notes.push(`rfkill unblock wifi failed: ${r.stderr.trim()} (Wi-Fi may stay blocked)`);
    }
  }
  for (const n of notes) o.log?.(n);
  return { file, changed: ordered.map((w) => w.path), removed: plan.removes, notes, found: true };
}
