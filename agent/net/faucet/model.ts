// Typed model of the part of faucet.yaml that Dovelab generates (one DP).

export interface FaucetVlan { name: string; vid: number; description?: string }

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
  actions: { allow?: boolean; mirror?: number; output?: { port: number } };
}

export interface FaucetModel {
  dp: { name: string; dpId: number; description?: string; interfaces: FaucetInterface[] };
  vlans: FaucetVlan[];
  acls: Record<string, FaucetAclRule[]>;
}

/** The ACL every lab port carries from the start, so live ACL changes are warm swaps. */
export const ALLOW_ALL = 'dovelab-allow';
export const allowAll = (): FaucetAclRule[] => [{ match: {}, actions: { allow: true } }];
