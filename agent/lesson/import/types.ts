// What an importer produces: a lesson draft, the files to copy into the pack, and an honest
// account of what changed (warnings) and what could not come along (notConverted).
import type { z } from 'zod';
import type { ArchiveLimits } from '../archive.js';
import type { TaskSchema } from '../schema.js';

/** A task as written in lesson.yaml (defaults left out). */
export type TaskDraft = z.input<typeof TaskSchema>;

/** Something of the source lab that the lesson does not carry, and why. */
export interface NotConverted { what: string; where: string; why: string }

/** A file to copy into the pack: `from` on this machine, `to` relative to the pack's root. */
export interface PackFile { from: string; to: string }

export interface DraftInterface { network: string; ip?: string; mac?: string; gateway?: string }

export interface DraftHost {
  image?: string;
  interfaces: Record<string, DraftInterface>;
  sysctl?: Record<string, number | string>;
  startup?: string;
  files?: Record<string, string>;
}

/** lesson.yaml as plain data, before validation (keys in the order they are written). */
export interface LessonDraft {
  dovelab: 1;
  id: string;
  title?: string;
  summary?: string;
  version?: string;
  authors?: string[];
  tasks?: TaskDraft[];
  networks: Record<string, { description?: string; kind?: 'hub' }>;
  hosts: Record<string, DraftHost>;
  /** Settings every host gets (Kathará's per-device sysctls). */
  defaults?: { sysctl: Record<string, number | string> };
}

export type SourceFormat = 'kathara' | 'containerlab';

/** One importer's output (index.ts adds tasks, repairs clashes, validates and writes the README). */
export interface Imported {
  format: SourceFormat;
  /** The file that was read: lab.conf or the .clab.yml. */
  source: string;
  lesson: LessonDraft;
  files: PackFile[];
  warnings: string[];
  notConverted: NotConverted[];
  /** Source name -> lesson name, for every host and network (renamed or not). */
  names: { hosts: Record<string, string>; networks: Record<string, string> };
  /** A web page of the source lab, if it names one (Kathará's LAB_WEB). */
  web?: string;
}

export interface ImportOptions {
  /** Whether an image can be used here; default: only dovelab/* images are. */
  imageAvailable?: (name: string) => boolean;
  /** The lesson id; default: from the lab's name. */
  id?: string;
  /** Copy bind sources outside the lab folder (absolute, ~, or links out); default: list them as not converted. */
  allowHostFiles?: boolean;
  /** What the pack may carry; default DEFAULT_ARCHIVE_LIMITS (what installing it allows). */
  limits?: Partial<ArchiveLimits>;
}

/** A source lab that cannot be read: the file, the line (when known) and the reason. */
export class ImportError extends Error {
  constructor(readonly file: string, readonly line: number | undefined, readonly reason: string) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${reason}`);
    this.name = 'ImportError';
  }
}
