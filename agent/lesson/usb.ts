// Lesson packs on USB sticks: any mounted filesystem (not the root, not a virtual one) with a
// dovelab-lessons/ directory at its top offers the packs and archives inside it.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { archiveKind } from './archive.js';

export const USB_LESSONS_DIR = 'dovelab-lessons';

/** Filesystems that are never a stick: kernel, memory and container ones. */
const VIRTUAL = new Set([
  'proc', 'sysfs', 'devtmpfs', 'devpts', 'tmpfs', 'ramfs', 'overlay', 'cgroup', 'cgroup2', 'securityfs',
  'pstore', 'bpf', 'debugfs', 'tracefs', 'configfs', 'fusectl', 'mqueue', 'hugetlbfs', 'autofs',
  'binfmt_misc', 'nsfs', 'rpc_pipefs', 'efivarfs', 'selinuxfs', 'squashfs', 'fuse.lxcfs', 'fuse.portal',
]);

export interface Mount { device: string; mountpoint: string; fstype: string }

/** /proc/mounts text -> mounts (octal escapes such as \040 for a space decoded). */
export function parseMounts(text: string): Mount[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 3)
    .map(([device, mountpoint, fstype]) => ({ device: unescape(device!), mountpoint: unescape(mountpoint!), fstype: fstype! }));
}

/** Mounts that could be a stick: a real filesystem other than the root. */
export function candidateMounts(mounts: Mount[]): Mount[] {
  return mounts.filter((m) => m.mountpoint !== '/' && m.mountpoint.startsWith('/') && !VIRTUAL.has(m.fstype));
}

/**
 * The lesson packs (directories with lesson.yaml) and archives (.zip, .tar.gz, .tgz) in
 * dovelab-lessons/ at the top of each candidate mount, sorted; a filesystem mounted twice counts once.
 */
export function findUsbLessonDirs(mountsFile = '/proc/mounts'): string[] {
  let text: string;
  try { text = readFileSync(mountsFile, 'utf8'); } catch { return []; }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const m of candidateMounts(parseMounts(text))) {
    const dir = join(m.mountpoint, USB_LESSONS_DIR);
    let real: string;
    try {
      if (!statSync(dir).isDirectory()) continue;
      real = realpathSync(dir);
    } catch { continue; }
    if (seen.has(real)) continue;
    seen.add(real);
    for (const n of readdirSync(dir).sort()) {
      if (n.startsWith('.')) continue;
      const path = join(dir, n);
      try {
        const st = statSync(path);
        if (st.isDirectory() ? existsSync(join(path, 'lesson.yaml')) : st.isFile() && archiveKind(n)) out.push(path);
      } catch { /* vanished or unreadable: not offered */ }
    }
  }
  return out;
}
