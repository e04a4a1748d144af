// Builds the pages into dist/kiosk-ui/ (run by `npm run build` after the agent's tsc):
//   student.html (served at /), kiosk.html (at /kiosk), instructor.html (at /instructor), assets/<name>-<hash>.{js,css}.
// Type-checks kiosk-ui with its own tsconfig first (the root tsconfig does not include it).
// xterm.js, its addon and its CSS are in their own chunk + stylesheet, loaded when a terminal opens;
// uPlot (the traffic graphs) in its own chunk, loaded when a graph first comes into view.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'kiosk-ui/src');
const out = join(root, 'dist/kiosk-ui');
const assets = join(out, 'assets');
const PUBLIC = '/assets/';
const quiet = process.argv.includes('--quiet');

const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'kiosk-ui/tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const common = {
  bundle: true, minify: true, write: true, metafile: true, outdir: assets,
  entryNames: '[name]-[hash]', chunkNames: '[name]-[hash]', assetNames: '[name]-[hash]',
  target: ['chrome100', 'firefox100', 'safari15'], logLevel: 'warning', legalComments: 'eof',
};

// 1. The terminal's stylesheet, on its own (the terminal chunk adds a <link> to it).
const css = await esbuild.build({ ...common, entryPoints: { terminal: join(src, 'term/terminal.css') } });
const termCss = Object.keys(css.metafile.outputs).find((f) => f.endsWith('.css'));

// 2. The pages' scripts (ESM, code splitting: the dynamic import of the terminal makes its own chunk).
const js = await esbuild.build({
  ...common,
  entryPoints: { student: join(src, 'student/main.tsx'), kiosk: join(src, 'kiosk/main.tsx'), instructor: join(src, 'instructor/main.tsx') },
  format: 'esm', splitting: true,
  jsx: 'automatic', jsxImportSource: 'preact',
  define: { __TERMINAL_CSS__: JSON.stringify(PUBLIC + relative(assets, join(root, termCss))), 'process.env.NODE_ENV': '"production"' },
});

const url = (f) => PUBLIC + relative(assets, join(root, f));
/** The page's entry output, its CSS and the chunks it imports statically (preloaded). */
function entryOf(name) {
  const [file, o] = Object.entries(js.metafile.outputs).find(([, o]) => o.entryPoint?.endsWith(`/${name}/main.tsx`));
  const statics = new Set();
  const walk = (f) => {
    for (const i of js.metafile.outputs[f].imports) if (i.kind === 'import-statement' && !statics.has(i.path)) { statics.add(i.path); walk(i.path); }
  };
  walk(file);
  return { js: file, css: o.cssBundle, statics: [...statics] };
}

const page = (title, e, bodyClass) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${title}</title>
<link rel="icon" href="data:,">
${e.css ? `<link rel="stylesheet" href="${url(e.css)}">\n` : ''}${e.statics.map((s) => `<link rel="modulepreload" href="${url(s)}">\n`).join('')}<script type="module" src="${url(e.js)}"></script>
</head>
<body class="${bodyClass}">
<div id="app"></div>
<noscript><p>Dovelab needs JavaScript turned on.</p></noscript>
</body>
</html>
`;

const student = entryOf('student');
const kiosk = entryOf('kiosk');
const instructor = entryOf('instructor');
writeFileSync(join(out, 'student.html'), page('Dovelab', student, 'student'));
writeFileSync(join(out, 'kiosk.html'), page('Dovelab kiosk', kiosk, 'kiosk-page'));
writeFileSync(join(out, 'instructor.html'), page('Dovelab instructor', instructor, 'instructor-page'));

// Chunks loaded on demand (dynamic imports from the pages): the terminal (xterm.js, student page)
// and the graphs (uPlot, student page and console). Each dynamic import's chunk and what it alone imports.
const pageStatics = new Set([student, kiosk, instructor].flatMap((e) => [e.js, ...e.statics]));
const lazyOf = (dir) => {
  const roots = Object.entries(js.metafile.outputs).filter(([, o]) => o.entryPoint?.includes(`/src/${dir}/`) && !o.entryPoint.endsWith('/main.tsx')).map(([f]) => f);
  const out = [];
  const walk = (f) => {
    if (out.includes(f) || pageStatics.has(f)) return;
    out.push(f);
    for (const i of js.metafile.outputs[f].imports) if (i.kind === 'import-statement') walk(i.path);
  };
  roots.forEach(walk);
  return out;
};
const lazy = lazyOf('term');
const graphs = lazyOf('graph');

const manifest = {
  student: { html: 'student.html', js: url(student.js), css: student.css && url(student.css), preload: student.statics.map(url) },
  kiosk: { html: 'kiosk.html', js: url(kiosk.js), css: kiosk.css && url(kiosk.css), preload: kiosk.statics.map(url) },
  instructor: { html: 'instructor.html', js: url(instructor.js), css: instructor.css && url(instructor.css), preload: instructor.statics.map(url) },
  terminal: { js: lazy.map(url), css: url(termCss) },
  graphs: { js: graphs.map(url) },
};
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

// Listing and page weights (gzip, level 9 as a fixed yardstick).
const size = (p) => { const b = readFileSync(p); return { raw: b.length, gz: gzipSync(b, { level: 9 }).length }; };
const abs = (u) => join(out, u);
const weigh = (files) => files.reduce((a, f) => { const s = size(f); return { raw: a.raw + s.raw, gz: a.gz + s.gz }; }, { raw: 0, gz: 0 });
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
if (!quiet) {
  const files = [];
  const list = (d) => { for (const n of readdirSync(d).sort()) { const p = join(d, n); statSync(p).isDirectory() ? list(p) : files.push(p); } };
  list(out);
  console.log('dist/kiosk-ui/');
  for (const f of files) { const s = size(f); console.log(`  ${relative(out, f).padEnd(34)} ${kb(s.raw).padStart(9)}  gzip ${kb(s.gz).padStart(8)}`); }
  const pageFiles = (html, e) => [abs(html), join(root, e.js), ...(e.css ? [join(root, e.css)] : []), ...e.statics.map((s) => join(root, s))];
  const term = [...lazy.map((f) => join(root, f)), join(root, termCss)];
  const st = weigh(pageFiles('student.html', student));
  const stT = weigh([...pageFiles('student.html', student), ...term]);
  const ki = weigh(pageFiles('kiosk.html', kiosk));
  const ins = weigh(pageFiles('instructor.html', instructor));
  const gr = weigh(graphs.map((f) => join(root, f)));
  console.log(`page weight (gzip): student ${kb(st.gz)}; with a terminal open ${kb(stT.gz)}; kiosk ${kb(ki.gz)}; instructor ${kb(ins.gz)}; graphs (uPlot, on demand) ${kb(gr.gz)}`);
}
