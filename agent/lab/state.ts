// The lab's desired state on disk (/var/lib/dovelab/lab.json): survives agent restarts.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeAtomic } from '../net/faucet/apply.js';
import type { Topology } from '../lesson/schema.js';
import type { LabOverrides } from './desired.js';

export interface LabState {
  lab: string;
  /** Where the lesson came from (for people; the topology below is what runs). */
  source: string;
  groups: number;
  topology: Topology;
  startedAt: string;
  /** Live changes: ACLs applied, mirrors switched. */
  overrides?: LabOverrides;
  /** The lab's own copy of its lesson pack (see service.snapshotPack). */
  packDir?: string;
}

export function readLabState(file: string): LabState | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as LabState;
}
export const writeLabState = (file: string, s: LabState) => writeAtomic(file, JSON.stringify(s, null, 2) + '\n');
export const clearLabState = (file: string) => rmSync(file, { force: true });
