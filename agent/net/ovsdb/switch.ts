// The lab's OVS adapter over OVSDB (no `docker exec`): reads come from the monitor's mirror,
// changes go as transactions. Changes that arrive while one transaction runs go together in the
// next (group commit: a reconcile phase attaching many hosts makes few transactions), and each
// transaction waits, like ovs-vsctl, until ovs-vswitchd has applied it (next_cfg / cur_cfg).
// Bridge creation and controllers stay with ovs-vsctl (agent/net/ovs.ts): rare, at `infra up`.
import type { GroupCommit, Verdict } from '../../lab/batch.js';
import { withDeadline } from '../../sys/deadline.js';
import type { OvsPort } from '../ovs.js';
import { OvsdbTxnError, type OvsdbClient } from './client.js';
import {
  addPortPlan, bumpNextCfg, changes, deletePortPlan, foundOf, lookupOps, missedExpectation, nextCfgOf,
  setInterfaceOptionsPlan, type Found, type Operation, type Plan, type PortSpec,
} from './ops.js';

/** One port change: what it is called in errors, the name it touches, and how to plan it. */
interface Change { what: string; name: string; plan: (f: Found, tag: string) => Plan }

export interface OvsdbSwitchOptions {
  /** Deadline of one call (queueing, transaction and ovs-vswitchd applying it). */
  callMs?: number;
}

export class OvsdbSwitch {
  private readonly queue: GroupCommit<Change>;
  private readonly callMs: number;

  /** `groupCommit` is agent/lab/batch.ts's (handed in: adapters import no lab code). */
  constructor(
    private readonly db: OvsdbClient,
    groupCommit: (commit: (take: () => Change[]) => Promise<Verdict[]>) => GroupCommit<Change>,
    opts: OvsdbSwitchOptions = {},
  ) {
    this.callMs = opts.callMs ?? 15_000;
    this.queue = groupCommit((take) => this.commit(take()));
  }

  async bridgeExists(bridge: string): Promise<boolean> {
    await this.db.ready(`OVSDB read of bridge ${bridge}`);
    return this.db.mirror.named('Bridge', bridge) !== undefined;
  }

  async ports(bridge: string): Promise<OvsPort[]> {
    await this.db.ready(`OVSDB read of the ports of ${bridge}`);
    const rows = this.db.mirror.bridgePorts(bridge);
    if (!rows) throw new Error(`OVS: no bridge named ${bridge}`);
    return rows.map(({ linkState: _l, ...r }) => r);
  }

  /** The datapath `infra up` chose (Open_vSwitch external_ids:dovelab-datapath). */
  async datapathOfSwitch(): Promise<'system' | 'netdev' | undefined> {
    await this.db.ready('OVSDB read of the datapath');
    const ids = this.db.mirror.root()?.external_ids;
    const v = Array.isArray(ids) && ids[0] === 'map' ? (ids[1] as [string, string][]).find(([k]) => k === 'dovelab-datapath')?.[1] : undefined;
    return v === 'system' || v === 'netdev' ? v : undefined;
  }

  addPort(bridge: string, name: string, ofport: number, externalIds: Record<string, string>): Promise<void> {
    const s: PortSpec = { bridge, name, ofport, externalIds };
    return this.submit({ what: `add port ${name} (ofport ${ofport}) to ${bridge}`, name, plan: (f, tag) => addPortPlan(s, f, tag) });
  }

  deletePort(_bridge: string, name: string): Promise<void> {
    return this.submit({ what: `delete port ${name}`, name, plan: (f) => deletePortPlan(name, f) });
  }

  setInterfaceOptions(name: string, options: Record<string, string>): Promise<void> {
    return this.submit({ what: `set options of interface ${name}`, name, plan: (f) => setInterfaceOptionsPlan(name, options, f) });
  }

  /** Queued for the next transaction; whatever fails or hangs, the error names this change. */
  private async submit(c: Change): Promise<void> {
    const what = `OVSDB ${c.what}`;
    try { await withDeadline(what, this.callMs, () => this.queue.submit(c)); } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      // A batch's error is shared by its changes: each caller gets its own copy naming its change.
      throw err.message.includes(c.what) ? err : new Error(`${what}: ${err.message}`, { cause: err });
    }
  }

  /** Several changes in one transaction; if it is refused, each alone (with a fresh look at its rows). */
  private async commit(cs: Change[]): Promise<Verdict[]> {
    await this.db.ready(`OVSDB ${cs.map((c) => c.what).join(', ')}`);
    try {
      await this.run(cs, (c) => this.db.mirror.found(c.name));
      return cs.map(() => ({ ok: true }));
    } catch (e) {
      // A deadline or a lost connection: it may have committed; retrying blindly could do it twice.
      if (!(e instanceof OvsdbTxnError)) throw e;
    }
    const out: Verdict[] = [];
    for (const c of cs) {
      try {
        const r = await this.db.transact(lookupOps(c.name), `lookup of ${c.name}`);
        await this.run([c], () => foundOf(r));
        out.push({ ok: true });
      } catch (error) { out.push({ ok: false, error }); }
    }
    return out;
  }

  private async run(cs: Change[], found: (c: Change) => Found): Promise<void> {
    const ops: Operation[] = [];
    const plans = cs.map((c, i) => {
      const p = c.plan(found(c), `c${i}`);
      const at = ops.length;
      ops.push(...p.ops);
      return { c, p, at };
    });
    const what = cs.length === 1 ? cs[0]!.what : `${cs.length} port changes (${cs.map((c) => c.what).join('; ')})`;
    const applied = changes(ops);
    if (applied) ops.push(...bumpNextCfg());
    const results = await this.db.transact(ops, what);
    for (const { c, p, at } of plans) {
      const why = missedExpectation(p, results, at);
      if (why) throw new OvsdbTxnError(`OVSDB ${c.what}: ${why}`);
    }
    if (!applied) return;
    const target = nextCfgOf(results[results.length - 1]);
    await this.db.waitFor((m) => m.curCfg() >= target, `ovs-vswitchd applying ${what}`, this.callMs,
      () => `next_cfg ${target}, cur_cfg ${this.db.mirror.curCfg()}: is ovs-vswitchd running?`);
  }
}
