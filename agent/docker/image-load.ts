// First boot on the Pi: `docker load` of the image tars the SD image carries (built elsewhere
// by `dovelab images build --arch arm64`), each verified against the manifest first.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { withDeadline } from '../sys/deadline.js';
import { sha256File } from './image-archive.js';
import { dockerArch, parsePreloadManifest, type PreloadImage } from './image-manifest.js';

/** The part of dockerode this needs (a test hands in a fake). */
export interface LoadDocker {
  loadImage(file: NodeJS.ReadableStream, opts?: object): Promise<NodeJS.ReadableStream>;
  getImage(name: string): { inspect(): Promise<{ Id: string; Architecture?: string }> };
}

export interface LoadReport {
  name: string; tag: string;
  /** loaded: by this call; present: the same image ID was already there; failed: see error. */
  status: 'loaded' | 'present' | 'failed';
  ms: number; error?: string;
}

export interface LoadOptions {
  /** Per image, for `docker load` (an SD card is slow). */
  deadlineMs?: number;
  /** The architecture the images must be for (default: this machine's). */
  arch?: string;
  log?: (s: string) => void;
}

export { DEFAULT_PRELOAD_DIR } from '../appliance/locations.js';

async function imageOf(docker: LoadDocker, tag: string): Promise<{ Id: string; Architecture?: string } | undefined> {
  try { return await docker.getImage(tag).inspect(); } catch { return undefined; }
}

/** Reads a `docker load` response (JSON lines); throws the first error it reports. */
async function drainLoadResponse(res: NodeJS.ReadableStream): Promise<string> {
  let body = '';
  for await (const chunk of res) body += chunk.toString();
  for (const line of body.split('\n')) {
    if (!line.trim()) continue;
    let msg: { error?: string; errorDetail?: { message?: string } };
    try { msg = JSON.parse(line) as typeof msg; } catch { continue; }
    if (msg.error || msg.errorDetail) throw new Error(msg.errorDetail?.message ?? msg.error);
  }
  return body;
}

async function loadOne(docker: LoadDocker, dir: string, manifestFile: string, i: number, img: PreloadImage, opts: Required<Omit<LoadOptions, 'log'>>): Promise<LoadReport['status']> {
  const where = `${manifestFile}: images[${i}]`;
  if (img.arch !== opts.arch) throw new Error(`${where}.arch: ${img.tag} is for ${img.arch}, this machine runs ${opts.arch} images`);
  const before = await imageOf(docker, img.tag);
  if (before?.Id === img.imageId) return 'present';
  const path = join(dir, img.file);
  if (!existsSync(path)) throw new Error(`${where}.file: ${path} does not exist`);
  const size = statSync(path).size;
  if (size !== img.size) throw new Error(`${where}.size: ${path} has ${size} bytes, the manifest says ${img.size}`);
  const digest = await sha256File(path);
  if (digest !== img.digest) throw new Error(`${where}.digest: ${path} has ${digest}, the manifest says ${img.digest} (corrupt or replaced)`);
  await withDeadline(`docker load ${path}`, opts.deadlineMs, async (signal) => {
    const file = createReadStream(path);
    signal.addEventListener('abort', () => file.destroy());
    await drainLoadResponse(await docker.loadImage(file));
  });
  const after = await imageOf(docker, img.tag);
  if (!after) throw new Error(`${where}: docker load of ${path} succeeded, but there is no image ${img.tag} (the tar carries another tag?)`);
  if (after.Id !== img.imageId) throw new Error(`${where}.imageId: after docker load, ${img.tag} is ${after.Id}, the manifest says ${img.imageId}`);
  if (after.Architecture && after.Architecture !== img.arch) throw new Error(`${where}.arch: ${img.tag} was loaded as ${after.Architecture}, the manifest says ${img.arch}`);
  return 'loaded';
}

/**
 * Loads every image of `<dir>/manifest.json` that is not already there (same tag and image ID),
 * each after checking its tar's size and sha256. A bad tar fails its own image, not the others:
 * the reports say which; the caller fails when any did. A missing or bad manifest throws.
 */
export async function loadPreloadedImages(docker: LoadDocker, dir: string, opts: LoadOptions = {}): Promise<LoadReport[]> {
  const log = opts.log ?? (() => {});
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`${manifestFile}: no such file (no images to load in ${dir})`);
  const manifest = parsePreloadManifest(readFileSync(manifestFile, 'utf8'), manifestFile);
  const o = { deadlineMs: opts.deadlineMs ?? 15 * 60_000, arch: opts.arch ?? dockerArch(process.arch) };
  const reports: LoadReport[] = [];
  for (const [i, img] of manifest.images.entries()) {
    const t0 = Date.now();
    try {
      const status = await loadOne(docker, dir, manifestFile, i, img, o);
      reports.push({ name: img.name, tag: img.tag, status, ms: Date.now() - t0 });
      log(`${img.tag}: ${status === 'present' ? 'already loaded' : `loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`} (${img.imageId.slice(7, 19)})`);
    } catch (e) {
      reports.push({ name: img.name, tag: img.tag, status: 'failed', ms: Date.now() - t0, error: (e as Error).message });
      log(`${img.tag}: FAILED: ${(e as Error).message}`);
    }
  }
  return reports;
}
