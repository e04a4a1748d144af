// Faucet adapter: validate a candidate faucet.yaml, swap it in atomically, reload, confirm by hash.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { sleep } from '../../sys/run.js';
import { fsyncDir, writeAtomic } from '../../sys/files.js';
import type { Sample } from '../../metrics/prometheus.js';
import { confirms, faucetStatus, type FaucetStatus } from './status.js';

export interface FaucetIo {
  /** Runs Faucet's own check_faucet_config on a file given by its path on the host. */
  check(hostPath: string): Promise<{ ok: boolean; error: string }>;
  /** Asks the running Faucet to reload its config (SIGHUP). */
  reload(): Promise<void>;
  metrics(): Promise<Sample[]>;
}

export class FaucetRejected extends Error {
  constructor(readonly faucetError: string) { super(`Faucet rejected the new config: ${faucetError}`); }
}
export class FaucetNotConfirmed extends Error {}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export { writeAtomic };

export interface ApplyResult { changed: boolean; sha256: string; ms: number; before?: FaucetStatus; after: FaucetStatus }

/** Runs Faucet's own check on `text` (as a candidate file next to the live one); throws FaucetRejected. */
export async function checkCandidate(io: FaucetIo, file: string, text: string): Promise<string> {
  const candidate = join(dirname(file), `.candidate-${basename(file)}`);
  writeAtomic(candidate, text);
  const verdict = await io.check(candidate);
  if (!verdict.ok) {
    rmSync(candidate, { force: true });
    throw new FaucetRejected(verdict.error);
  }
  return candidate;
}

/**
 * Makes `text` Faucet's live config. A config Faucet rejects never stays in place: the check runs
 * on a candidate file first, and if the live reload still fails the last good file is restored.
 */
export async function applyFaucetConfig(io: FaucetIo, file: string, text: string, dpName: string,
  opts: { timeoutMs?: number; alreadyChecked?: boolean } = {}): Promise<ApplyResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const t0 = Date.now();
  const hash = sha256(text);
  const before = faucetStatus(await io.metrics());
  if (existsSync(file) && readFileSync(file, 'utf8') === text && before.hashes.includes(hash) && before.loadError === false) {
    // Faucet already runs this config; a switch that is reconnecting (OVS restart) needs no reload.
    const after = confirms(before, hash, dpName) ? before : await waitForConfirm(io, hash, dpName, timeoutMs);
    if (!after) throw new FaucetNotConfirmed(`Faucet runs config ${hash.slice(0, 12)} but ${dpName} did not reconnect within ${timeoutMs / 1000} s (dp_status 0): see \`docker logs dovelab-ovs\``);
    return { changed: false, sha256: hash, ms: Date.now() - t0, before, after };
  }
  let candidate: string;
  if (opts.alreadyChecked) {
    candidate = join(dirname(file), `.candidate-${basename(file)}`);
    writeAtomic(candidate, text);
  } else candidate = await checkCandidate(io, file, text);
  const lastGood = `${file}.last-good`;
  if (existsSync(file)) writeAtomic(lastGood, readFileSync(file));
  renameSync(candidate, file);
  fsyncDir(dirname(file));
  let failure: Error | undefined;
  let after: FaucetStatus | undefined;
  try {
    await io.reload();
    after = await waitForConfirm(io, hash, dpName, timeoutMs);
  } catch (e) { failure = e as Error; }
  if (!after) {
    if (existsSync(lastGood)) {
      renameSync(lastGood, file);
      fsyncDir(dirname(file));
      await io.reload().catch(() => {});
    }
    throw failure ?? new FaucetNotConfirmed(`Faucet did not confirm config ${hash.slice(0, 12)} within ${timeoutMs / 1000} s ` +
      '(hash, load error, dp_status); the previous config was restored. See `docker logs dovelab-faucet`.');
  }
  return { changed: true, sha256: hash, ms: Date.now() - t0, before, after };
}

/** Pauses between confirmation polls: the first soon after the reload, then every 50 ms. */
export const confirmPollMs = (attempt: number) => Math.min(50, 10 * 2 ** attempt);

export async function waitForConfirm(io: FaucetIo, hash: string, dpName: string, timeoutMs: number): Promise<FaucetStatus | undefined> {
  const t0 = Date.now();
  for (let attempt = 0; Date.now() - t0 < timeoutMs; attempt++) {
    try {
      const st = faucetStatus(await io.metrics());
      if (confirms(st, hash, dpName)) return st;
    } catch { /* Faucet not answering yet */ }
    await sleep(confirmPollMs(attempt));
  }
  return undefined;
}

/** The engine's Faucet: the live file, Faucet's own check, and apply with confirmation. */
export interface FaucetPort {
  /** Text of the live faucet.yaml, or undefined when there is none. */
  liveConfig(): string | undefined;
  /** Faucet's check_faucet_config on `text`; throws FaucetRejected. */
  check(text: string): Promise<void>;
  /** Makes `text` live and confirms it (see applyFaucetConfig). */
  apply(text: string, opts?: { alreadyChecked?: boolean }): Promise<ApplyResult>;
  /** Throws when Faucet does not answer. */
  ping(): Promise<void>;
}

export function faucetPort(io: FaucetIo, file: string, dpName: string): FaucetPort {
  return {
    liveConfig: () => (existsSync(file) ? readFileSync(file, 'utf8') : undefined),
    check: async (text) => { rmSync(await checkCandidate(io, file, text), { force: true }); },
    apply: (text, opts = {}) => applyFaucetConfig(io, file, text, dpName, opts),
    ping: async () => { await io.metrics(); },
  };
}
