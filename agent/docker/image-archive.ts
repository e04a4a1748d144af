// docker-archive tar files (what `docker save` writes and `docker load` reads): their digest,
// what image they hold (ID, tags, platform), and a copy under another tag.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import { parseArchiveManifest, parseImageConfigPlatform, type ArchiveImage } from './image-manifest.js';

/** sha256:<hex> of a file's bytes (streamed). */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return `sha256:${h.digest('hex')}`;
}

/** JSON members of at most this size are kept while scanning a tar; layers are skipped. */
const SMALL = 4 * 1024 * 1024;

/** The image a docker-archive holds: ID, tags, and the platform its config records. */
export async function inspectArchive(path: string): Promise<ArchiveImage & { arch: string; os: string }> {
  const small = new Map<string, string>();
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    if (header.type === 'file' && (header.size ?? 0) <= SMALL && /(\.json|^blobs\/sha256\/[0-9a-f]{64})$/.test(header.name)) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => { chunks.push(c as Buffer); });
      stream.on('end', () => { small.set(header.name.replace(/^\.\//, ''), Buffer.concat(chunks).toString()); next(); });
    } else {
      stream.on('end', () => next());
      stream.resume();
    }
  });
  await pipeline(createReadStream(path), ex);
  const manifest = small.get('manifest.json');
  if (manifest === undefined) throw new Error(`${path}: not a docker-archive (no manifest.json)`);
  const image = parseArchiveManifest(manifest, path);
  const config = small.get(image.configFile);
  if (config === undefined) throw new Error(`${path}: the image config ${image.configFile} is not in the tar`);
  const actual = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  if (actual !== image.imageId) throw new Error(`${path}: the image config ${image.configFile} has digest ${actual}`);
  return { ...image, ...parseImageConfigPlatform(config, `${path} ${image.configFile}`) };
}

/**
 * Copies a docker-archive, replacing its repository tags by `tag` (layers and config byte for
 * byte the same, so the image ID is unchanged). Lets a machine load a tar under a name that
 * cannot clash with its own images (the arm64 smoke checks on an amd64 machine).
 */
export async function retagArchive(src: string, dst: string, tag: string): Promise<void> {
  const ex = extract();
  const out = pack();
  const [repo, ver] = [tag.slice(0, tag.lastIndexOf(':')), tag.slice(tag.lastIndexOf(':') + 1)];
  ex.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    if (name === 'manifest.json' || name === 'repositories') {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => { chunks.push(c as Buffer); });
      stream.on('end', () => {
        const json = JSON.parse(Buffer.concat(chunks).toString()) as unknown;
        let body: unknown;
        if (name === 'manifest.json') body = (json as { RepoTags?: string[] }[]).map((m) => ({ ...m, RepoTags: [tag] }));
        else body = { [repo]: { [ver]: Object.values(Object.values(json as Record<string, Record<string, string>>)[0] ?? {})[0] } };
        out.entry({ ...header, size: undefined }, JSON.stringify(body), next);
      });
    } else {
      stream.pipe(out.entry(header, (err) => next(err ?? undefined)));
    }
  });
  ex.on('finish', () => out.finalize());
  await Promise.all([pipeline(createReadStream(src), ex), pipeline(out, createWriteStream(dst))]);
}
