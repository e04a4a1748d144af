// Runs test tiers with uvu and ends with the line "N passed, N failed".
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const uvuBin = join(here, '../../node_modules/uvu/bin.js');
const tiers = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration', 'e2e'];

interface Tally { passed: number; failed: number; crashed: boolean }

function runTier(tier: string): Promise<Tally> {
  const dir = join(here, tier);
  if (!existsSync(dir) || !readdirSync(dir).some((f) => f.endsWith('.test.js'))) {
    console.error(`tier ${tier}: no tests found in ${dir}`);
    return Promise.resolve({ passed: 0, failed: 1, crashed: true });
  }
  return new Promise((resolve) => {
    console.log(`\n=== ${tier} ===`);
    const child = spawn(process.execPath, [uvuBin, dir, '\\.test\\.js$'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { process.stdout.write(b); out += b.toString(); });
    child.on('close', (code) => {
      const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(out)?.[1] ?? NaN);
      const total = num('Total'); const passed = num('Passed');
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        console.error(`tier ${tier}: uvu ended (exit ${code}) without a summary`);
        resolve({ passed: 0, failed: 1, crashed: true });
        return;
      }
      // Skipped tests count as failures: a tier never passes by skipping.
      resolve({ passed, failed: total - passed + (code !== 0 && total === passed ? 1 : 0), crashed: false });
    });
  });
}

/** Integration and e2e tests make a lab, the sim world and the switch: leave none of it behind. */
function cleanUp(): Promise<boolean> {
  const cli = join(here, '../agent/cli.js');
  const steps = [['down'], ['sim', 'down'], ['infra', 'down']];
  return steps.reduce<Promise<boolean>>((ok, args) => ok.then((prev) => new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('close', (code) => resolve(prev && code === 0));
  })), Promise.resolve(true));
}

let passed = 0; let failed = 0;
for (const tier of tiers) {
  const t = await runTier(tier);
  passed += t.passed; failed += t.failed;
  console.log(`tier ${tier}: ${t.passed} passed, ${t.failed} failed`);
  if ((tier === 'integration' || tier === 'e2e') && !(await cleanUp())) {
    console.error('clean-up after the integration tier failed');
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
