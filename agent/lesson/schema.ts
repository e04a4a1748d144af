// lesson.yaml, format version 1: the topology part. One module that validates and documents it.
import { z } from 'zod';

const NAME = /^[a-z][a-z0-9-]{0,14}$/;
const IFNAME = /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

const cidr = z.string().refine((s) => {
  const m = CIDR4.exec(s);
  return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}, 'expected an IPv4 address with prefix, e.g. 198.51.100.11/24');

export const NetworkSchema = z.strictObject({
  vlan: z.number().int().min(1).max(4094).optional().describe('VLAN id; literal for shared networks'),
  shared: z.boolean().default(false).describe('one network for all groups instead of one per group'),
  description: z.string().optional(),
});

export const InterfaceSchema = z.strictObject({
  network: z.string().describe('name of a network in `networks`'),
  ip: z.union([z.literal('dhcp'), z.literal('none'), cidr]).default('none'),
  mac: z.string().regex(MAC, 'expected a MAC like 0e:00:00:00:01:02').optional(),
});

export const HostSchema = z.strictObject({
  image: z.string().optional().describe('container image; default dovelab/labhost'),
  interfaces: z.record(z.string().regex(IFNAME, 'not a valid Linux interface name'), InterfaceSchema),
});

export const TopologySchema = z.strictObject({
  dovelab: z.literal(1).describe('format version'),
  id: z.string().regex(/^[a-z0-9-]+$/).optional(),
  title: z.string().optional(),
  networks: z.record(z.string().regex(NAME, 'network names: lowercase letters, digits, dashes; ≤ 15'), NetworkSchema),
  hosts: z.record(z.string().regex(NAME, 'host names: lowercase letters, digits, dashes; ≤ 15'), HostSchema),
});
export type Topology = z.infer<typeof TopologySchema>;
