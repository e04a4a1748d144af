// Endpoints Docker tore down behind the driver's back (dockerd stopped while it restored, a Delete
// that never reached us): their container end came back to the appliance's netns and their
// sandbox is gone. The repair forgets them and deletes their veth; a live endpoint is kept.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readNetworkState } from '../../agent/lab/network-state.js';
import { endpointCreate, endpointJoin, pruneEndpoints } from '../../agent/lab/networks.js';
import { EP_1, EP_2, NET_A, withDriver } from './_driver.js';

test('joined, container end beside ours, sandbox gone for 30 s: forgotten and its veth deleted; the live one is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-prune-'));
  const live = join(dir, 'netns-live');
  writeFileSync(live, '');
  try {
    await withDriver(async ({ w, ctx, create, netJson }) => {
      await create(NET_A, { 'dovelab.vlan': '110' });
      await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
      await endpointCreate(ctx, { network: NET_A, endpoint: EP_2 });
      await endpointJoin(ctx, NET_A, EP_1, live);
      await endpointJoin(ctx, NET_A, EP_2, join(dir, 'netns-gone'));
      const [e1, e2] = readNetworkState(netJson).endpoints;
      // Both host ends are here; both container ends too (as right after a Join, before Docker moves it).
      for (const e of [e1!, e2!]) { w.interfaces.add(e.hostEnd); w.interfaces.add(e.peer); }
      // Right after a Join it looks the same (Docker moves the end in after Join answers): kept a while.
      const t0 = Date.now();
      assert.is(await pruneEndpoints(ctx, t0), 0, 'just seen: kept');
      assert.is(await pruneEndpoints(ctx, t0 + 29_000), 0, 'still within the wait: kept');
      assert.is(await pruneEndpoints(ctx, t0 + 30_000), 1, 'still so 30 s later: forgotten');
      const left = readNetworkState(netJson).endpoints;
      assert.equal(left.map((e) => e.id), [EP_1], 'the endpoint whose sandbox exists is kept');
      assert.ok(w.has(`links.deleteLink ${e2!.hostEnd}`), 'the orphan\'s veth is deleted');
      assert.not.ok(w.has(`links.deleteLink ${e1!.hostEnd}`));
      // A later repair takes nothing more: the live endpoint stays.
      assert.is(await pruneEndpoints(ctx, t0 + 90_000), 0);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test.run();
