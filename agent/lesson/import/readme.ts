// README.md of an imported pack: what students work with (hosts, networks, tasks) and, for the
// teacher, what the import changed and what it left behind.
import { basename, dirname } from 'node:path';
import type { Imported, LessonDraft } from './types.js';

const FORMAT_NAME = { kathara: 'Kathará', containerlab: 'containerlab' } as const;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function hostsTable(lesson: LessonDraft): string[] {
  const rows = ['| host | interface | network | address | gateway |', '|---|---|---|---|---|'];
  for (const [h, host] of Object.entries(lesson.hosts)) {
    const ifaces = Object.entries(host.interfaces);
    if (!ifaces.length) rows.push(`| ${h} | – | – | – | – |`);
    for (const [i, iface] of ifaces) rows.push(`| ${h} | ${i} | ${iface.network} | ${iface.ip ?? '–'} | ${iface.gateway ?? ''} |`);
  }
  return rows;
}

export function renderReadme(imported: Imported, lesson: LessonDraft): string {
  const from = FORMAT_NAME[imported.format];
  const out: string[] = [`# ${lesson.title ?? lesson.id}`, ''];
  if (lesson.summary) out.push(lesson.summary, '');
  const about = [
    lesson.authors?.length ? `Authors: ${lesson.authors.join(', ')}` : '',
    lesson.version ? `Version: ${lesson.version}` : '',
    imported.web ? `Web: ${imported.web}` : '',
  ].filter(Boolean);
  if (about.length) out.push(about.join(' · '), '');

  out.push('## Hosts and networks', '', 'Open a terminal to a host from the lesson page. Each group gets its own copy of these networks.', '', ...hostsTable(lesson), '');
  for (const [n, net] of Object.entries(lesson.networks)) out.push(`- \`${n}\`${net.description ? `: ${net.description}` : ''}`);
  out.push('');

  if (lesson.tasks?.length) {
    out.push('## Tasks', '');
    for (const t of lesson.tasks) out.push(`- ${t.title ?? t.id} (\`${t.id}\`)`);
    out.push('');
  }

  out.push(`## Imported from ${from}`, '',
    `This pack was made by \`dovelab lesson import\` from \`${imported.format === 'kathara' ? `${basename(dirname(imported.source))}/lab.conf` : basename(imported.source)}\` (${from}). Check what changed before teaching with it.`, '');
  out.push('### Warnings', '');
  out.push(...(imported.warnings.length ? imported.warnings.map((w) => `- ${w}`) : ['None.']), '');
  out.push('### Not converted', '');
  if (imported.notConverted.length) {
    out.push('| what | where | why |', '|---|---|---|');
    for (const n of imported.notConverted) out.push(`| ${cell(n.what)} | ${cell(n.where)} | ${cell(n.why)} |`);
  } else out.push('Nothing: every part of the source lab has a place in this pack.');
  out.push('');
  return out.join('\n');
}
