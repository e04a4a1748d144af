// Startup lines that set sysctls (`sysctl -w net.X=V`, `echo V > /proc/sys/net/…`) cannot work in a
// Dovelab host (/proc/sys is read-only in an unprivileged container): their values move into the
// lesson's sysctl:, and the line becomes a comment saying so. Pure.

export interface Lifted {
  script: string;
  /** Lifted values, in script order (a later line wins). */
  sysctl: Record<string, number | string>;
  /** Lines that set sysctls but stay (another form, or not net.*), with why. */
  kept: { line: string; why: string }[];
}

const SYSCTL_CMD = /^(?:sudo\s+)?(?:\/s?bin\/|\/usr\/s?bin\/)?sysctl((?:\s+-[qwe]+)*)\s+((?:[a-z0-9_./-]+=\S+\s*)+)$/;
const ECHO_PROC = /^(?:echo|printf)\s+(?:-n\s+)?(['"]?)([^\s'"]+)\1\s*>\s*\/proc\/sys\/([a-z0-9_/.-]+)$/;
const NET = /^net\.[a-z0-9_.-]+$/;
const num = (v: string): number | string => (/^-?\d+$/.test(v) ? Number(v) : v);
export const LIFTED_MARK = '# dovelab: now in lesson.yaml sysctl: (/proc/sys is read-only in a lab host):';

/** `accept` says whether a key can go into the lesson (e.g. its interface exists); else the line stays. */
export function liftSysctls(script: string, accept: (key: string) => string | undefined = () => undefined): Lifted {
  const out: Lifted = { script: '', sysctl: {}, kept: [] };
  const lines = script.split('\n').map((line) => {
    const code = line.replace(/\s+#.*$/, '').trim();
    let pairs: [string, string][] | undefined;
    const s = SYSCTL_CMD.exec(code);
    if (s) pairs = s[2]!.trim().split(/\s+/).map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i).replace(/\//g, '.'), kv.slice(i + 1).replace(/^['"]|['"]$/g, '')]; });
    const e = pairs ? undefined : ECHO_PROC.exec(code);
    if (e) pairs = [[e[3]!.replace(/\//g, '.'), e[2]!]];
    if (!pairs) {
      if (/(^|[\s;&|])(sysctl\s+(-\w+\s+)*[a-z0-9_.]+=|[^#]*>\s*\/proc\/sys\/)/.test(code)) out.kept.push({ line: line.trim(), why: 'a form the importer does not lift' });
      return line;
    }
    const bad = pairs.map(([k]) => (NET.test(k) ? accept(k) : 'only net.* sysctls can be set in a lab host')).find(Boolean);
    if (bad) { out.kept.push({ line: line.trim(), why: bad }); return line; }
    for (const [k, v] of pairs) out.sysctl[k] = num(v);
    return `${line.match(/^\s*/)![0]}${LIFTED_MARK} ${line.trim()}`;
  });
  out.script = lines.join('\n');
  return out;
}
