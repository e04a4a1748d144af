// Typed model of the part of faucet.yaml that Dovelab generates (one DP).

/**
 * The DP's description, the same with or without a lab: Faucet compares the DP's own keys (all but
 * interfaces and routers) at every reload, and any difference, the description included, is a cold
 * start: the switch reconnects and every port, other groups' and Docker networks' too, loses traffic
 * for 1-2 s. A lab-named description made every `up` and `down` one.
 */
export const DP_DESCRIPTION = 'Dovelab appliance';

export interface FaucetVlan {
  name: string; vid: number; description?: string;
  /** Egress ACLs of the VLAN (Faucet's egress pipeline: turning it on or off is a cold start). */
  acls_out?: string[];
}

export interface FaucetInterface {
  /** OpenFlow port number; also the YAML key (must be an integer). */
  number: number;
  name: string;
  description?: string;
  native_vlan?: string;
  tagged_vlans?: string[];
  acls_in?: string[];
  /** Ports (by number) whose traffic, both directions, is copied to this port. */
  mirror?: number[];
  output_only?: boolean;
}

/** Match fields use Faucet's (OpenFlow) names. */
export interface FaucetAclRule {
  match: Record<string, number | string>;
  actions: { allow?: boolean; mirror?: number; output?: { port?: number; ports?: number[] } };
}

export interface FaucetModel {
  dp: { name: string; dpId: number; description?: string; interfaces: FaucetInterface[] };
  vlans: FaucetVlan[];
  acls: Record<string, FaucetAclRule[]>;
}

/** The ACL every lab port carries from the start, so live ACL changes are warm swaps. */
export const ALLOW_ALL = 'dovelab-allow';

/**
 * Faucet refuses a DP without interfaces, so the config always holds this one: a port number
 * no switch port uses, in no VLAN. Keeping it while labs come and go keeps those changes warm.
 * It carries the allow-all ACL so that Faucet's port ACL table exists with or without a lab: the
 * table appearing or going (the first or last port with an ACL) changes the pipeline, a cold start
 * of the whole switch at every `up` and `down` (seen: "table IDs changed").
 */
export const IDLE_PORT = { number: 0xfe00, name: 'dovelab-idle', description: 'placeholder: Faucet needs one interface', native_vlan: 'dovelab-idle' } as const;
/** The idle port as it goes into a config (its own ACL list: configs are edited in place). */
export const idlePort = (): FaucetInterface => ({ ...IDLE_PORT, acls_in: [ALLOW_ALL] });
/** Faucet also needs a VLAN referenced by an interface: the idle port's, never used by labs. */
export const IDLE_VLAN = { name: 'dovelab-idle', vid: 4094, description: 'reserved by Dovelab' } as const;

export const allowAll = (): FaucetAclRule[] => [{ match: {}, actions: { allow: true } }];

/**
 * The end of every VLAN's egress ACL list. Faucet 1.10.12 builds the egress ACL table's match
 * fields from the ACLs' rules alone, then installs a `vlan_vid` flow per VLAN in it and crashes
 * (AssertionError "vlan_vid match in table egress_acl", seen here) unless some rule matches
 * vlan_vid. An egress rule's vlan_vid is replaced by its VLAN's own, so this one allows all.
 */
export const EGRESS_ALLOW = 'dovelab-egress-allow';
export const egressAllow = (): FaucetAclRule[] => [{ match: { vlan_vid: IDLE_VLAN.vid }, actions: { allow: true } }];
