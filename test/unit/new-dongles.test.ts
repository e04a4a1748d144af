// A dongle plugged in while the agent runs (agent/hardware/new-dongles.ts), on a copy of the Pi 4
// fixture tree (eth1: an r8152 in USB port 1-1.2, the uplink up0; eth2: an RTL8153 in 2-2): the
// agent started with eth2 out; eth2 plugged in gets the next default role (mirror, mir0), its
// .link file, a rename to mir0, and the running map; asked again, nothing more. A config entry for
// the port wins over the default; a machine without discovery adopts nothing.
import { cpSync, existsSync, readFileSync, readlinkSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, type Config } from '../../agent/config.js';
import { adoptNewDongles } from '../../agent/hardware/new-dongles.js';
import { scanNics } from '../../agent/hardware/nics.js';
import { applyDiscovery } from '../../agent/hardware/roles.js';
import { tempConfig } from './_fake-adapters.js';

const FIX = fileURLToPath(new URL('../../../test/fixtures/sysfs/pi4', import.meta.url));

interface World { file: string; sysfs: string; linkDir: string; running: Config; renames: string[]; plug(): void; done(): void }

/** The Pi 4 tree with eth2 unplugged, a config file (its `hardware:` lines given), and the map the agent started with. */
function world(hardware: string[]): World {
  const t = tempConfig();
  const sysfs = join(t.dir, 'sysfs');
  cpSync(FIX, sysfs, { recursive: true, verbatimSymlinks: true });
  const eth2 = join(sysfs, 'class/net/eth2');
  const target = readlinkSync(eth2);
  unlinkSync(eth2);
  const linkDir = join(t.dir, 'links');
  const file = join(t.dir, 'dovelab.yaml');
  writeFileSync(file, [`dataDir: ${t.cfg.dataDir}`, `runDir: ${t.cfg.runDir}`, `logDir: ${t.cfg.logDir}`, ...(hardware.length ? ['hardware:', `  sysfs: ${sysfs}`, `  link_dir: ${linkDir}`, ...hardware] : []), ''].join('\n'));
  const loaded = loadConfig(file, {});
  const running = loaded.hardware ? applyDiscovery(loaded, scanNics(loaded.hardware.sysfs)) : loaded;
  return { file, sysfs, linkDir, running, renames: [], plug: () => symlinkSync(target, eth2), done: t.done };
}

/** Renames as the kernel would: the interface's entry in class/net takes the new name. */
const renamer = (w: World) => async (from: string, to: string) => { w.renames.push(`${from}->${to}`); renameSync(join(w.sysfs, 'class/net', from), join(w.sysfs, 'class/net', to)); };

test('eth2 plugged in while the agent runs: the next default role (mirror), renamed mir0, its .link file, the running map; then nothing more', async () => {
  const w = world(['  dongles: []']);
  try {
    assert.equal(w.running.dongles, { up0: 'uplink' }, 'started with the uplink only');
    assert.equal(await adoptNewDongles({ configFile: w.file, running: [w.running], rename: renamer(w) }), [], 'control: nothing new before the plug');
    w.plug();
    const found = await adoptNewDongles({ configFile: w.file, running: [w.running], rename: renamer(w), appeared: ['eth2'] });
    assert.equal(found, [{ ifname: 'eth2', name: 'mir0', role: 'mirror', where: 'USB port 2-2' }], 'eth1 (up0 by port, not renamed in the fixture) did not just appear: left alone');
    assert.equal(w.renames, ['eth2->mir0']);
    assert.equal(w.running.dongles, { up0: 'uplink', mir0: 'mirror' });
    assert.ok(existsSync(join(w.linkDir, '10-dovelab-mir0.link')));
    assert.match(readFileSync(join(w.linkDir, '10-dovelab-mir0.link'), 'utf8'), /Name=mir0/);
    assert.equal(await adoptNewDongles({ configFile: w.file, running: [w.running], rename: renamer(w), appeared: ['mir0'] }), [], 'asked again (its rename seen): nothing more');
    assert.equal(w.renames, ['eth2->mir0']);
  } finally { w.done(); }
});

test('a config entry for the port wins over the default; without a rename it says when the name comes', async () => {
  const w = world(['  dongles:', '    - {usb_path: "2-2", role: lab, name: lab7}']);
  try {
    w.plug();
    const found = await adoptNewDongles({ configFile: w.file, running: [w.running], appeared: ['eth2'] });
    assert.equal(found, [{ ifname: 'eth2', name: 'lab7', role: 'lab', where: 'USB port 2-2', note: 'becomes lab7 when it is plugged in again' }]);
    assert.is(w.running.dongles.lab7, 'lab');
  } finally { w.done(); }
});

test('no `hardware:` section (dev machines, the sim world): nothing is adopted, the map stays', async () => {
  const w = world([]);
  try {
    const before = { ...w.running.dongles };
    w.plug();
    assert.equal(await adoptNewDongles({ configFile: w.file, running: [w.running] }), []);
    assert.equal(w.running.dongles, before);
  } finally { w.done(); }
});

test.run();
