// The manifest of prebuilt image tar files (dist/<arch>/images/manifest.json; on the Pi
// /opt/dovelab/images): its schema, parsing with errors that name the file and the field, the
// build's cache decision, and reading a docker-archive's own manifest. Pure: no I/O.
import { z } from 'zod';

const SHA256 = /^sha256:[0-9a-f]{64}$/;

export const PreloadImageSchema = z.strictObject({
  /** Recipe name (image-build/images/<name>). */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a recipe name (lower-case letters, digits, - and _)'),
  /** The repository tag the tar carries and `docker load` creates, e.g. dovelab/ovs:latest. */
  tag: z.string().regex(/^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'repository:tag, e.g. dovelab/ovs:latest'),
  /** The tar file, a plain name in the manifest's directory. */
  file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\.tar$/, 'a plain file name ending in .tar (no directories)'),
  /** sha256 of the tar file's bytes. */
  digest: z.string().regex(SHA256, 'sha256:<64 hex digits>'),
  /** The image ID `docker load` gives it (sha256 of its config). */
  imageId: z.string().regex(SHA256, 'sha256:<64 hex digits>'),
  /** Size of the tar file in bytes. */
  size: z.number().int().positive(),
  /** Docker's architecture name (amd64, arm64). */
  arch: z.string().regex(/^[a-z0-9]+$/, 'an architecture name such as arm64'),
  /** Hash of the recipe it was built from (the build's cache key). */
  recipeHash: z.string().regex(/^[0-9a-f]{8,64}$/, 'hex digits').optional(),
});
export type PreloadImage = z.infer<typeof PreloadImageSchema>;

export const PreloadManifestSchema = z.strictObject({
  version: z.literal(1),
  images: z.array(PreloadImageSchema),
}).superRefine((m, ctx) => {
  for (const key of ['name', 'tag', 'file'] as const) {
    const seen = new Set<string>();
    m.images.forEach((img, i) => {
      if (seen.has(img[key])) ctx.addIssue({ code: 'custom', path: ['images', i, key], message: `duplicate ${key} ${JSON.stringify(img[key])}` });
      seen.add(img[key]);
    });
  }
});
export type PreloadManifest = z.infer<typeof PreloadManifestSchema>;

export class ManifestError extends Error {
  constructor(readonly file: string, readonly field: string, readonly reason: string) {
    super(`${file}: ${field}: ${reason}`);
    this.name = 'ManifestError';
  }
}

/** Parses manifest.json text; `file` names it in errors. */
export function parsePreloadManifest(text: string, file: string): PreloadManifest {
  let json: unknown;
  try { json = JSON.parse(text); } catch (e) { throw new ManifestError(file, '(top)', `not JSON: ${(e as Error).message}`); }
  const r = PreloadManifestSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ManifestError(file, fieldPath(i.path), i.message);
  }
  return r.data;
}

/** ['images', 1, 'digest'] -> images[1].digest */
function fieldPath(path: readonly PropertyKey[]): string {
  if (!path.length) return '(top)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

export const manifestText = (m: PreloadManifest): string => `${JSON.stringify(m, null, 2)}\n`;

/** The manifest with `img` added or replacing the entry of the same name, sorted by name. */
export function withImage(m: PreloadManifest | undefined, img: PreloadImage): PreloadManifest {
  const rest = (m?.images ?? []).filter((i) => i.name !== img.name);
  return { version: 1, images: [...rest, img].sort((a, b) => a.name.localeCompare(b.name)) };
}

/** What the file on disk looks like (undefined: missing). */
export interface TarOnDisk { size: number; digest: string }

/**
 * The build's cache decision for one recipe: up to date only when the manifest has it with the
 * same recipe hash and architecture, and its tar is there with that size and digest.
 */
export function upToDate(entry: PreloadImage | undefined, recipeHash: string, arch: string, tar: TarOnDisk | undefined): { ok: boolean; why: string } {
  if (!entry) return { ok: false, why: 'not in the manifest' };
  if (entry.recipeHash !== recipeHash) return { ok: false, why: `recipe changed (${entry.recipeHash ?? 'none'} -> ${recipeHash})` };
  if (entry.arch !== arch) return { ok: false, why: `built for ${entry.arch}, not ${arch}` };
  if (!tar) return { ok: false, why: `${entry.file} is missing` };
  if (tar.size !== entry.size) return { ok: false, why: `${entry.file} has ${tar.size} bytes, the manifest says ${entry.size}` };
  if (tar.digest !== entry.digest) return { ok: false, why: `${entry.file} has digest ${tar.digest}, the manifest says ${entry.digest}` };
  return { ok: true, why: 'up to date' };
}

/** What a docker-archive tar says about its (single) image. */
export interface ArchiveImage { imageId: string; repoTags: string[]; configFile: string; layers: string[] }

/**
 * Reads a docker-archive's manifest.json (`[{Config, RepoTags, Layers}]`, the format `docker
 * save` writes and `docker load` reads). `where` names the tar in errors. One image per tar.
 */
export function parseArchiveManifest(text: string, where: string): ArchiveImage {
  let json: unknown;
  try { json = JSON.parse(text); } catch (e) { throw new ManifestError(where, 'manifest.json', `not JSON: ${(e as Error).message}`); }
  const r = z.array(z.object({
    Config: z.string(), RepoTags: z.array(z.string()).nullable().optional(), Layers: z.array(z.string()),
  })).length(1, 'exactly one image per tar').safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ManifestError(where, `manifest.json${i.path.length ? ` ${fieldPath(i.path)}` : ''}`, i.message);
  }
  const img = r.data[0]!;
  // The config file is named by its sha256 (docker: "<hex>.json", OCI-layout style: "blobs/sha256/<hex>").
  const hex = /([0-9a-f]{64})(?:\.json)?$/.exec(img.Config)?.[1];
  if (!hex) throw new ManifestError(where, 'manifest.json [0].Config', `${img.Config} is not named by its sha256`);
  return { imageId: `sha256:${hex}`, repoTags: img.RepoTags ?? [], configFile: img.Config, layers: img.Layers };
}

/** The platform an image config records (`architecture`, `os`). */
export function parseImageConfigPlatform(text: string, where: string): { arch: string; os: string } {
  let json: { architecture?: unknown; os?: unknown };
  try { json = JSON.parse(text) as typeof json; } catch (e) { throw new ManifestError(where, 'image config', `not JSON: ${(e as Error).message}`); }
  if (typeof json.architecture !== 'string' || typeof json.os !== 'string') throw new ManifestError(where, 'image config', 'no architecture/os');
  return { arch: json.architecture, os: json.os };
}

/** Node's process.arch as Docker names it. */
export function dockerArch(nodeArch: string): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[nodeArch] ?? nodeArch;
}
