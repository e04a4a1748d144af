// A lesson's README as HTML, rendered on the server: markdown-it with raw HTML off (a lesson's
// <script> is text), and its link check (javascript:, vbscript:, file: and data: other than images
// are refused). Links open in a new tab and never send the page's address.
// markdown-it loads with the first README shown: an agent nobody looks at never holds it (issue 13).
import type MarkdownItModule from 'markdown-it';

type MarkdownIt = InstanceType<typeof MarkdownItModule>;

async function makeRenderer(): Promise<MarkdownIt> {
  const md = new (await import('markdown-it')).default({ html: false, linkify: false, typographer: false });
  const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const t = tokens[idx]!;
    const href = String(t.attrGet('href') ?? '');
    if (/^https?:/i.test(href)) {
      t.attrSet('target', '_blank');
      t.attrSet('rel', 'noopener noreferrer');
    }
    return defaultLinkOpen(tokens, idx, options, env, self);
  };
  return md;
}

let renderer: Promise<MarkdownIt> | undefined;
export async function renderMarkdown(text: string): Promise<string> {
  renderer ??= makeRenderer().catch((e: unknown) => { renderer = undefined; throw e; });
  return (await renderer).render(text);
}
