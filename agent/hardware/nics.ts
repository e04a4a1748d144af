// NIC discovery: what /sys/class/net says about each interface, and whether it is a dongle.
// The reader (readNicFacts) only reads files into a plain record; every decision (bus, USB
// port, onboard or dongle, udev's ID_PATH) is a pure function of that record, unit-tested on
// fixture sysfs trees (test/fixtures/sysfs). The root is configurable: a tree shaped like /sys.
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';

/** One device directory on the way from the interface's device up to /sys/devices. */
export interface SysDevice {
  /** Directory name: `1-1.2:1.0`, `1-1.2`, `usb1`, `0000:01:00.0`, `fd500000.pcie` … */
  sysname: string;
  /** Basename of its `subsystem` link (usb, pci, platform, virtio, sdio …); absent when it has none. */
  subsystem?: string;
  /** DEVTYPE from its `uevent` (usb_interface, usb_device …). */
  devtype?: string;
  /** Basename of its `driver` link. */
  driver?: string;
  /** USB attributes when present: idVendor, idProduct, manufacturer, product, speed (Mbit/s). */
  attrs: Partial<Record<'idVendor' | 'idProduct' | 'manufacturer' | 'product' | 'speed', string>>;
  /** It has an `of_node` link: the board's device tree describes it (soldered on). */
  ofNode: boolean;
}

/** Everything read from sysfs about one interface: plain data, no decisions. */
export interface NicFacts {
  name: string;
  /** Where class/net/<name> points, relative to the sysfs root (devices/…/net/<name>). */
  path: string;
  /** From the `device` link's target up to (not including) devices/, nearest first; absent: no `device` link. */
  device?: SysDevice[];
  /** Files of the interface as read (trimmed); a file that could not be read is absent. */
  address?: string;
  carrier?: string;
  speed?: string;
  operstate?: string;
  /** ARPHRD type number (1 = Ethernet, 772 = loopback). */
  type?: string;
  /** DEVTYPE of the interface's own uevent (wlan, bridge, vlan, wwan …). */
  devtype?: string;
  /** A `wireless` or `phy80211` entry exists. */
  wireless: boolean;
}

export type Bus = 'usb' | 'pci' | 'platform' | 'sdio' | 'virtio' | (string & {});

/** One interface as the appliance sees it. */
export interface Nic {
  name: string;
  driver?: string;
  /** Subsystem of the interface's device (usb, pci, platform, sdio, virtio …); absent when virtual. */
  bus?: Bus;
  /** The USB device's own sysfs name (`1-1.2`): bus 1, port 1 then port 2 of the hub behind it. */
  usbPath?: string;
  vendor?: string;
  product?: string;
  /** The USB device's product string, when it has one. */
  model?: string;
  mac?: string;
  /** Link detected; absent when the kernel would not say (interface down). */
  carrier?: boolean;
  /** Mbit/s; absent when unknown (link down, or the driver does not say): never guessed. */
  speed?: number;
  operstate?: string;
  wireless: boolean;
  /** No hardware device behind it (lo, veth, bridges, docker0, OVS, dl* …). */
  virtual: boolean;
  /** The board's own Ethernet that happens to sit on USB (Pi 1/2/3: smsc95xx, Pi 3B+: lan78xx). */
  onboard: boolean;
  /** A USB Ethernet adapter the appliance may give a role. */
  dongle: boolean;
  /** Why it is or is not a dongle, for a person. */
  reason: string;
  /** udev's ID_PATH (what a .link file's Path= matches), when it can be derived from sysfs. */
  idPath?: string;
}

/** What a scan finds: the interfaces, and udev's path prefix of each USB bus's controller. */
export interface NicScan {
  interfaces: Nic[];
  /** USB bus number → ID_PATH of its controller (`platform-fd500000.pcie-pci-0000:01:00.0`), from bus/usb/devices/usb<N>. */
  usbBuses: Record<string, string>;
}

/**
 * USB drivers of things that are not Ethernet adapters: phones sharing their connection and
 * mobile broadband modems. The appliance never gives them a role.
 */
const NOT_ETHERNET_ADAPTERS = new Set(['rndis_host', 'ipheth', 'qmi_wwan', 'cdc_mbim', 'huawei_cdc_ncm', 'sierra_net', 'cdc_subset', 'zaurus']);

/**
 * The onboard Ethernet of the Pi 1 B+/2 B/3 B (smsc95xx, LAN9514 at 1-1.1) and the Pi 3 B+ (lan78xx,
 * LAN7515 at 1-1.1.1) hangs off the board's own USB hub on the SoC's DWC2 controller.
 */
const ONBOARD_USB: { driver: string; usbPath: string }[] = [
  { driver: 'smsc95xx', usbPath: '1-1.1' },
  { driver: 'lan78xx', usbPath: '1-1.1.1' },
];
/** The BCM2835/6/7 DWC2 USB controller (Pi 1, Zero, 2, 3): the only one the onboard chips sit on. */
const DWC2 = /^(20|3f|7e)980000\.usb$/;

const USB_DEVICE_NAME = /^\d+-\d+(\.\d+)*$/;

/** The USB device (not the interface) an interface belongs to: nearest usb_device ancestor. */
function usbDeviceOf(device: SysDevice[]): SysDevice | undefined {
  return device.find((d) => d.subsystem === 'usb' && (d.devtype === 'usb_device' || (d.devtype === undefined && USB_DEVICE_NAME.test(d.sysname))));
}

function parseCarrier(v: string | undefined): boolean | undefined {
  return v === '1' ? true : v === '0' ? false : undefined;
}

function parseSpeed(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined; // -1 or unreadable: unknown
  const n = Number(v);
  return n > 0 ? n : undefined;
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

/** Pure: the interface from what was read. */
export function classifyNic(f: NicFacts): Nic {
  const base = {
    name: f.name,
    ...(f.address && MAC.test(f.address.toLowerCase()) ? { mac: f.address.toLowerCase() } : {}),
    ...(parseCarrier(f.carrier) !== undefined ? { carrier: parseCarrier(f.carrier) } : {}),
    ...(parseSpeed(f.speed) !== undefined ? { speed: parseSpeed(f.speed) } : {}),
    ...(f.operstate ? { operstate: f.operstate } : {}),
    wireless: f.wireless || f.devtype === 'wlan',
  };
  const dev = f.device;
  if (!dev || !dev.length || f.path.startsWith('devices/virtual/')) {
    const kind = f.devtype ? ` (${f.devtype})` : f.type === '772' ? ' (loopback)' : '';
    return { ...base, virtual: true, onboard: false, dongle: false, reason: `virtual interface${kind}: no hardware device` };
  }
  const own = dev[0]!;
  const usb = own.subsystem === 'usb' ? usbDeviceOf(dev) : undefined;
  const nic: Nic = {
    ...base,
    ...(own.driver ? { driver: own.driver } : {}),
    ...(own.subsystem ? { bus: own.subsystem } : {}),
    ...(usb ? { usbPath: usb.sysname } : {}),
    ...(usb?.attrs.idVendor ? { vendor: usb.attrs.idVendor } : {}),
    ...(usb?.attrs.idProduct ? { product: usb.attrs.idProduct } : {}),
    ...(usb?.attrs.product ? { model: usb.attrs.product } : {}),
    virtual: false, onboard: false, dongle: false, reason: '',
  };
  const idPath = udevIdPath(dev);
  if (idPath) nic.idPath = idPath;
  const driver = own.driver ?? 'no driver';
  if (nic.wireless) return { ...nic, reason: `Wi-Fi (${driver}): never a dongle` };
  if (own.subsystem !== 'usb') {
    return { ...nic, reason: `${own.subsystem ?? 'unknown'} bus (${driver}): not USB, the machine's own network port` };
  }
  if (usb && isOnboardUsb(own.driver, usb, dev)) {
    return { ...nic, onboard: true, reason: `the board's own Ethernet (${driver} at USB ${usb.sysname}): never a dongle` };
  }
  if (f.devtype === 'wwan' || (own.driver && NOT_ETHERNET_ADAPTERS.has(own.driver))) {
    return { ...nic, reason: `USB ${driver}: a phone or mobile modem, not an Ethernet adapter` };
  }
  if (f.type !== undefined && f.type !== '1') return { ...nic, reason: `USB ${driver}: not Ethernet (ARPHRD ${f.type})` };
  if (!usb) return { ...nic, reason: `USB ${driver}: its USB device was not found in sysfs` };
  return { ...nic, dongle: true, reason: `USB Ethernet dongle (${driver}) in port ${usb.sysname}` };
}

function isOnboardUsb(driver: string | undefined, usb: SysDevice, device: SysDevice[]): boolean {
  // The device tree describes the onboard chip: the kernel links its of_node.
  if (usb.ofNode && (driver === 'smsc95xx' || driver === 'lan78xx')) return true;
  return ONBOARD_USB.some((o) => o.driver === driver && o.usbPath === usb.sysname)
    && device.some((d) => d.subsystem === 'platform' && DWC2.test(d.sysname));
}

/** Subsystems that udev's path_id handles in ways not modelled here (storage, mainframe …): no ID_PATH then. */
const PATH_ID_UNMODELLED = new Set(['scsi', 'scsi_tape', 'cciss', 'bcma', 'serio', 'scm', 'ccw', 'ccwgroup', 'ap', 'iucv', 'nvme']);

/**
 * Pure: udev's ID_PATH for a device, from its ancestors (nearest first), the way systemd's
 * path_id builtin composes it. Walking up: a USB interface or device `B-P[:C.I]` adds
 * `usb-0:P[:C.I]` and skips the rest of the USB chain (hubs, the root hub `usbB`); a PCI device adds
 * `pci-<name>` and skips its PCI parents (bridges); a platform device adds `platform-<name>` and
 * skips platform parents; virtio is skipped; acpi and xen add their name. Other subsystems add
 * nothing. Like path_id, no ID_PATH without a PCI, platform, ACPI or Xen parent (undefined then),
 * and none for what path_id handles specially (SCSI, bcma …): a .link file then matches the MAC.
 * Examples: Pi 4 `platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.2:1.0`, Pi 5
 * `platform-xhci-hcd.1-usb-0:1:1.0`, Pi 3B+ `platform-3f980000.usb-usb-0:1.1.1:1.0`.
 */
export function udevIdPath(device: readonly SysDevice[]): string | undefined {
  const parts: string[] = [];
  let supportedParent = false;
  const skip = (i: number, subsystem: string) => {
    while (i + 1 < device.length && device[i + 1]!.subsystem === subsystem) i++;
    return i;
  };
  for (let i = 0; i < device.length; i++) {
    const d = device[i]!;
    const s = d.subsystem;
    if (!s) continue;
    if (PATH_ID_UNMODELLED.has(s)) return undefined;
    if (s === 'usb') {
      if (d.devtype !== 'usb_interface' && d.devtype !== 'usb_device') continue;
      const dash = d.sysname.indexOf('-');
      if (dash < 0) continue;
      parts.unshift(`usb-0:${d.sysname.slice(dash + 1)}`);
      i = skip(i, 'usb');
    } else if (s === 'pci' || s === 'platform' || s === 'acpi' || s === 'xen') {
      parts.unshift(`${s}-${d.sysname}`);
      i = skip(i, s);
      supportedParent = true;
    } else if (s === 'virtio') {
      i = skip(i, 'virtio');
    }
  }
  return parts.length && supportedParent ? parts.join('-') : undefined;
}

/** Natural order of USB paths: bus, then each port number (1-1.10 after 1-1.9). */
export function compareUsbPaths(a: string, b: string): number {
  const nums = (p: string) => p.split(/[-.]/).map(Number);
  const x = nums(a); const y = nums(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

// ---- the reader: files in, plain records out ----

function readText(path: string): string | undefined {
  try { return readFileSync(path, 'utf8').trim(); } catch { return undefined; }
}
function linkBase(path: string): string | undefined {
  try { return basename(readlinkSync(path)); } catch { return undefined; }
}
function ueventDevtype(dir: string): string | undefined {
  return /^DEVTYPE=(.*)$/m.exec(readText(join(dir, 'uevent')) ?? '')?.[1];
}

function readSysDevice(dir: string): SysDevice {
  const attrs: SysDevice['attrs'] = {};
  for (const k of ['idVendor', 'idProduct', 'manufacturer', 'product', 'speed'] as const) {
    const v = readText(join(dir, k));
    if (v !== undefined) attrs[k] = v;
  }
  const d: SysDevice = { sysname: basename(dir), attrs, ofNode: existsSync(join(dir, 'of_node')) };
  const subsystem = linkBase(join(dir, 'subsystem'));
  if (subsystem) d.subsystem = subsystem;
  const devtype = ueventDevtype(dir);
  if (devtype) d.devtype = devtype;
  const driver = linkBase(join(dir, 'driver'));
  if (driver) d.driver = driver;
  return d;
}

/** A device directory and its parents up to (not including) <root>/devices. */
function ancestors(root: string, dir: string): SysDevice[] {
  const top = join(root, 'devices');
  const out: SysDevice[] = [];
  for (let d = dir; d.startsWith(top + sep) && d !== top; d = dirname(d)) out.push(readSysDevice(d));
  return out;
}

/** Reads one interface's facts under a sysfs root (`/sys` or a fixture tree). */
export function readNicFacts(root: string, name: string): NicFacts {
  const realRoot = realpathSync(root);
  const netDir = realpathSync(join(root, 'class/net', name));
  const f: NicFacts = { name, path: relative(realRoot, netDir), wireless: existsSync(join(netDir, 'wireless')) || existsSync(join(netDir, 'phy80211')) };
  for (const k of ['address', 'carrier', 'speed', 'operstate', 'type'] as const) {
    const v = readText(join(netDir, k));
    if (v !== undefined) f[k] = v;
  }
  const devtype = ueventDevtype(netDir);
  if (devtype) f.devtype = devtype;
  if (existsSync(join(netDir, 'device'))) f.device = ancestors(realRoot, realpathSync(join(netDir, 'device')));
  return f;
}

/** Reads each USB bus's root hub (bus/usb/devices/usb<N>) for its controller's ID_PATH. */
export function readUsbBuses(root: string): Record<string, string> {
  const dir = join(root, 'bus/usb/devices');
  const out: Record<string, string> = {};
  let names: string[] = [];
  try { names = readdirSync(dir); } catch { return out; }
  const realRoot = realpathSync(root);
  for (const n of names) {
    const m = /^usb(\d+)$/.exec(n);
    if (!m) continue;
    try {
      const p = udevIdPath(ancestors(realRoot, realpathSync(join(dir, n))));
      if (p) out[m[1]!] = p;
    } catch { /* a root hub that vanished while reading */ }
  }
  return out;
}

/**
 * Scans <root>/class/net. An interface that disappears while being read (unplugged) is left out;
 * the order is by name.
 */
export function scanNics(root = '/sys'): NicScan {
  const names = readdirSync(join(root, 'class/net')).sort();
  const interfaces: Nic[] = [];
  for (const n of names) {
    let facts: NicFacts;
    try { facts = readNicFacts(root, n); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new Error(`${join(root, 'class/net', n)}: ${(e as Error).message}`);
    }
    interfaces.push(classifyNic(facts));
  }
  return { interfaces, usbBuses: readUsbBuses(root) };
}
