// NIC discovery and dongle roles on fixture sysfs trees (test/fixtures/sysfs, built by build.mjs):
// Pi 4 (two r8152, bcmgenet, Wi-Fi, virtual ones), Pi 3 B+ (lan78xx onboard on USB), Pi 5
// (ax88179, macb), the sim world's dongles; config by USB port and by MAC, a dongle moved to
// another port, duplicates refused, .link and NetworkManager text, the config edit for the
// console, `dovelab hardware scan --json` through the real CLI, and one scan of this machine's /sys.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError, ConfigSchema, HardwareSchema, loadConfig, type Config } from '../../agent/config.js';
import { editDongleConfig, updateDongleConfig } from '../../agent/hardware/dongle-config.js';
import { linkFiles, nmUnmanaged, writeLinkFiles } from '../../agent/hardware/links.js';
import { classifyNic, compareUsbPaths, readNicFacts, scanNics, udevIdPath, type Nic, type NicScan } from '../../agent/hardware/nics.js';
import { hardwareReport } from '../../agent/hardware/report.js';
import { withDiscoveredDongles } from '../../agent/hardware/discover.js';
import { applyDiscovery, assignDongles, dongleMap, mergeDongleMaps, renamePlan } from '../../agent/hardware/roles.js';

const FIX = fileURLToPath(new URL('../../../test/fixtures/sysfs/', import.meta.url));
const CLI = fileURLToPath(new URL('../../agent/cli.js', import.meta.url));
const scan = (board: string) => scanNics(join(FIX, board));
const nic = (s: NicScan, name: string): Nic => {
  const n = s.interfaces.find((i) => i.name === name);
  assert.ok(n, `${name} scanned`);
  return n!;
};
const hw = (x: unknown = {}) => HardwareSchema.parse(x);
const roles = (s: NicScan, h = hw(), explicit: Config['dongles'] = {}) =>
  assignDongles(s, h, explicit).assignments.map((a) => `${a.name}=${a.role}${a.present ? `@${a.ifname}` : ' (absent)'}`);
const tmp = () => mkdtempSync(join(tmpdir(), 'dovelab-nics-'));
const configError = (fn: () => unknown): string => {
  try { fn(); } catch (e) { assert.instance(e, ConfigError); return (e as Error).message; }
  assert.unreachable('expected a ConfigError');
  return '';
};

const VL805 = 'platform-fd500000.pcie-pci-0000:01:00.0';

test('Pi 4: two r8152 dongles (USB 2 behind the hub, USB 3), bcmgenet and Wi-Fi are not dongles, virtual ones skipped', () => {
  const s = scan('pi4');
  assert.equal(s.interfaces.map((n) => n.name), ['dl1a2b3c4d', 'docker0', 'eth0', 'eth1', 'eth2', 'lo', 'ovs-system', 'veth1a2b3c4', 'wlan0']);
  const eth1 = nic(s, 'eth1');
  assert.equal({ driver: eth1.driver, bus: eth1.bus, usbPath: eth1.usbPath, vendor: eth1.vendor, product: eth1.product, mac: eth1.mac, carrier: eth1.carrier, speed: eth1.speed, dongle: eth1.dongle, idPath: eth1.idPath },
    { driver: 'r8152', bus: 'usb', usbPath: '1-1.2', vendor: '0bda', product: '8152', mac: '00:e0:4c:36:00:01', carrier: true, speed: 100, dongle: true, idPath: `${VL805}-usb-0:1.2:1.0` });
  const eth2 = nic(s, 'eth2');
  assert.equal([eth2.usbPath, eth2.product, eth2.carrier, eth2.dongle, eth2.idPath], ['2-2', '8153', false, true, `${VL805}-usb-0:2:1.0`]);
  assert.is(eth2.speed, undefined, 'speed -1 (no link) is left out, never guessed');
  const eth0 = nic(s, 'eth0');
  assert.equal([eth0.driver, eth0.bus, eth0.dongle, eth0.virtual, eth0.usbPath, eth0.speed], ['bcmgenet', 'platform', false, false, undefined, 1000]);
  assert.match(eth0.reason, 'not USB');
  const wlan = nic(s, 'wlan0');
  assert.equal([wlan.driver, wlan.bus, wlan.wireless, wlan.dongle], ['brcmfmac', 'sdio', true, false]);
  for (const v of ['lo', 'docker0', 'veth1a2b3c4', 'dl1a2b3c4d', 'ovs-system']) {
    const n = nic(s, v);
    assert.ok(n.virtual && !n.dongle && n.driver === undefined && n.bus === undefined, `${v} is virtual`);
  }
  assert.match(nic(s, 'docker0').reason, '(bridge)');
  assert.is(nic(s, 'veth1a2b3c4').carrier, true);
  assert.is(nic(s, 'ovs-system').carrier, undefined, 'carrier unreadable (interface down): left out');
  assert.equal(s.usbBuses, { 1: VL805, 2: VL805 });
  // Defaults: by USB port, first uplink up0, second mirror mir0.
  assert.equal(roles(s), ['up0=uplink@eth1', 'mir0=mirror@eth2']);
});

test('Pi 3 B+: the onboard lan78xx sits on USB and is never a dongle (device tree or the fixed path on DWC2); the r8152 is', () => {
  const s = scan('pi3bplus');
  const eth0 = nic(s, 'eth0');
  assert.equal([eth0.driver, eth0.bus, eth0.usbPath, eth0.onboard, eth0.dongle], ['lan78xx', 'usb', '1-1.1.1', true, false]);
  assert.match(eth0.reason, "the board's own Ethernet");
  assert.equal([nic(s, 'eth1').usbPath, nic(s, 'eth1').dongle, nic(s, 'eth1').idPath], ['1-1.3', true, 'platform-3f980000.usb-usb-0:1.3:1.0']);
  assert.equal([nic(s, 'wlan0').wireless, nic(s, 'wlan0').dongle], [true, false]);
  assert.equal(roles(s), ['up0=uplink@eth1']);

  // The fixed-path rule alone (no of_node) still finds it …
  const facts = readNicFacts(join(FIX, 'pi3bplus'), 'eth0');
  const noOf = { ...facts, device: facts.device!.map((d) => ({ ...d, ofNode: false })) };
  assert.is(classifyNic(noOf).onboard, true);
  // … and a lan78xx dongle in another port is a dongle (positive control of the rule).
  const moved = { ...noOf, device: noOf.device.map((d) => ({ ...d, sysname: d.sysname.replace('1-1.1.1', '1-1.4') })) };
  assert.equal([classifyNic(moved).usbPath, classifyNic(moved).dongle], ['1-1.4', true]);
  // An smsc95xx at 1-1.1 on a Pi 4 (VL805, not the DWC2 controller) is a dongle too.
  const pi4 = readNicFacts(join(FIX, 'pi4'), 'eth1');
  const smsc = { ...pi4, device: pi4.device!.map((d, i) => ({ ...d, sysname: d.sysname.replace('1-1.2', '1-1.1'), ...(i === 0 ? { driver: 'smsc95xx' } : {}) })) };
  assert.equal([classifyNic(smsc).usbPath, classifyNic(smsc).driver, classifyNic(smsc).dongle], ['1-1.1', 'smsc95xx', true]);
  const onDwc2 = { ...smsc, device: [...smsc.device.slice(0, -1), { sysname: '3f980000.usb', subsystem: 'platform', attrs: {}, ofNode: false }] };
  assert.equal([classifyNic(onDwc2).onboard, classifyNic(onDwc2).dongle], [true, false]);
});

test('USB Wi-Fi, phones sharing their connection and modems are not dongles; an unknown USB Ethernet driver is', () => {
  const f = readNicFacts(join(FIX, 'pi4'), 'eth1');
  const withDriver = (driver: string, extra: object = {}) => classifyNic({ ...f, ...extra, device: f.device!.map((d, i) => (i === 0 ? { ...d, driver } : d)) });
  assert.equal([withDriver('r8152').dongle, withDriver('dm9601').dongle], [true, true], 'control: Ethernet adapters are dongles');
  const wifi = withDriver('mt7601u', { devtype: 'wlan' });
  assert.equal([wifi.wireless, wifi.dongle, wifi.usbPath], [true, false, '1-1.2']);
  assert.match(wifi.reason, 'Wi-Fi (mt7601u): never a dongle');
  assert.is(withDriver('rtl8xxxu', { wireless: true }).dongle, false);
  for (const d of ['rndis_host', 'ipheth', 'qmi_wwan', 'cdc_mbim']) assert.is(withDriver(d).dongle, false, d);
  assert.is(withDriver('cdc_ether', { devtype: 'wwan' }).dongle, false);
  assert.is(withDriver('cdc_ncm', { type: '65534' }).dongle, false, 'not ARPHRD_ETHER');
});

test('Pi 5: the ax88179 dongle on RP1\'s xHCI; macb eth0 is on the platform bus', () => {
  const s = scan('pi5');
  const eth1 = nic(s, 'eth1');
  assert.equal([eth1.driver, eth1.usbPath, eth1.vendor, eth1.product, eth1.dongle, eth1.idPath], ['ax88179_178a', '3-1', '0b95', '1790', true, 'platform-xhci-hcd.1-usb-0:1:1.0']);
  assert.equal([nic(s, 'eth0').driver, nic(s, 'eth0').bus, nic(s, 'eth0').dongle], ['macb', 'platform', false]);
  assert.equal(s.usbBuses, { 1: 'platform-xhci-hcd.0', 3: 'platform-xhci-hcd.1', 4: 'platform-xhci-hcd.1' });
  assert.equal(roles(s), ['up0=uplink@eth1']);
  // A port entry for the socket's USB 3 side (4-1) is the same socket for udev: it matches.
  assert.equal(roles(s, hw({ dongles: [{ usb_path: '4-1', role: 'mirror' }] })), ['mir0=mirror@eth1']);
  assert.equal(roles(s, hw({ dongles: [{ usb_path: '1-1', role: 'mirror' }] })), ['mir0=mirror (absent)', 'up0=uplink@eth1'], 'the other controller is another socket');
});

test('sim world fixture: up0, up1, mir0 keep their names and roles: the map is the sim default', () => {
  const s = scan('sim');
  assert.equal(s.interfaces.filter((n) => n.dongle).map((n) => `${n.name}:${n.usbPath}:${n.driver}`), ['mir0:1-1.3:r8152', 'up0:1-1.1:r8152', 'up1:1-1.2:r8152']);
  const { assignments } = assignDongles(s, hw());
  assert.equal(dongleMap(assignments), ConfigSchema.parse({}).dongles);
  assert.ok(assignments.every((a) => a.source === 'kept'));
  // Positive control: the same dongles under kernel names get the defaults instead.
  const renamed = { ...s, interfaces: s.interfaces.map((n) => (n.dongle ? { ...n, name: `eth${n.usbPath!.slice(-1)}` } : n)) };
  assert.equal(roles(renamed), ['up0=uplink@eth1', 'mir0=mirror@eth2', 'lab1=lab@eth3']);
  // Unplugging the uplink does not turn the mirror into the uplink.
  const unplugged = { ...s, interfaces: s.interfaces.filter((n) => n.name !== 'up0' && n.name !== 'up1') };
  assert.equal(roles(unplugged), ['mir0=mirror@mir0']);
});

test('config by USB port: the listed dongle gets its role and name, the others the roles left', () => {
  const s = scan('pi4');
  assert.equal(roles(s, hw({ dongles: [{ usb_path: '2-2', name: 'wan0', role: 'uplink' }] })), ['wan0=uplink@eth2', 'mir0=mirror@eth1']);
  assert.equal(roles(s, hw({ dongles: [{ usb_path: '1-1.2', role: 'lab' }, { usb_path: '1-1.4', role: 'uplink' }] })),
    ['lab1=lab@eth1', 'up0=uplink (absent)', 'mir0=mirror@eth2'], 'an absent uplink keeps the role: the other dongle becomes the mirror');
  assert.equal(roles(s, hw({ unconfigured: 'unused' })), ['spare1=unused@eth1', 'spare2=unused@eth2']);
  assert.equal(dongleMap(assignDongles(s, hw({ unconfigured: 'unused' })).assignments), {});
  // An entry that names the onboard port or Wi-Fi gets nothing, and says why.
  const p3 = assignDongles(scan('pi3bplus'), hw({ dongles: [{ usb_path: '1-1.1.1', role: 'uplink' }] }));
  assert.equal(p3.assignments.map((a) => [a.name, a.present]), [['up0', false], ['mir0', true]]);
  assert.match(p3.warnings.join('\n'), /hardware\.dongles\.0 \(USB port 1-1\.1\.1\): eth0 is there but is no dongle \(the board's own Ethernet/);
});

test('config by MAC: the dongle keeps its role in another port; a MAC entry beats a port entry', () => {
  const s = scan('pi4');
  const h = hw({ dongles: [{ mac: '00-E0-4C-36-00-01', name: 'mir0', role: 'mirror' }] });
  assert.equal(roles(s, h), ['mir0=mirror@eth1', 'up0=uplink@eth2']);
  // The same dongle moved from 1-1.2 to 1-1.4 (and renamed by the kernel): still the mirror.
  const moved: NicScan = { ...s, interfaces: s.interfaces.map((n) => (n.name === 'eth1' ? { ...n, name: 'eth3', usbPath: '1-1.4', idPath: `${VL805}-usb-0:1.4:1.0` } : n)) };
  assert.equal(roles(moved, h), ['mir0=mirror@eth3', 'up0=uplink@eth2']);
  // Port entry for 1-1.2 and MAC entry for the dongle in it: the MAC wins, the port entry is absent.
  const both = assignDongles(s, hw({ dongles: [{ usb_path: '1-1.2', name: 'up0', role: 'uplink' }, { mac: '00:e0:4c:36:00:01', name: 'mir0', role: 'mirror' }] }));
  assert.equal(both.assignments.map((a) => `${a.name}=${a.present ? a.ifname : '-'}`), ['up0=-', 'mir0=eth1', 'lab1=eth2']);
  assert.match(both.warnings[0]!, 'is hardware.dongles.1 by its MAC, which wins');
  assert.equal(renamePlan(both.assignments, s.interfaces), [{ from: 'eth1', to: 'mir0', role: 'mirror' }, { from: 'eth2', to: 'lab1', role: 'lab' }]);
});

test('config: duplicates, bad names and bad matches are refused with the field named; a good one loads', () => {
  const dir = tmp();
  const file = join(dir, 'dovelab.yaml');
  const load = (yaml: string) => { writeFileSync(file, yaml); return loadConfig(file, {}); };
  try {
    const good = load('hardware:\n  dongles:\n    - {usb_path: "1-1.2", name: up0, role: uplink}\n    - {mac: "00:E0:4C:68:00:02", role: mirror}\n');
    assert.equal(good.hardware!.dongles, [{ usb_path: '1-1.2', name: 'up0', role: 'uplink' }, { mac: '00:e0:4c:68:00:02', role: 'mirror' }]);
    assert.equal(good.dongles, {}, 'with discovery on, the sim world default map is not added');
    assert.equal(load('').dongles, ConfigSchema.parse({}).dongles, 'without it, the default stays (control)');
    assert.equal(load('hardware:\n').hardware, hw(), 'a bare `hardware:` is discovery with its defaults');
    const bad: [string, RegExp][] = [
      ['    - {usb_path: "1-1.2", name: up0, role: uplink}\n    - {usb_path: "1-1.3", name: up0, role: mirror}\n', /hardware\.dongles\.1\.name: up0 is already hardware\.dongles\.0\.name/],
      ['    - {usb_path: "1-1.2", role: uplink}\n    - {usb_path: "1-1.2", role: mirror}\n', /hardware\.dongles\.1\.usb_path: 1-1\.2 is already hardware\.dongles\.0\.usb_path/],
      ['    - {mac: "00:e0:4c:68:00:02", role: uplink}\n    - {mac: "00-E0-4C-68-00-02", role: mirror}\n', /hardware\.dongles\.1\.mac: 00:e0:4c:68:00:02 is already hardware\.dongles\.0\.mac/],
      ['    - {usb_path: "1-1.2", mac: "00:e0:4c:68:00:02", role: uplink}\n', /hardware\.dongles\.0: give usb_path or mac, not both/],
      ['    - {name: up0, role: uplink}\n', /hardware\.dongles\.0: needs usb_path or mac/],
      ['    - {usb_path: "1-1.2", name: eth1, role: uplink}\n', /hardware\.dongles\.0\.name: eth1: eth\* names are the kernel's own/],
      ['    - {usb_path: "1-1.2", name: "up0.5", role: uplink}\n', /hardware\.dongles\.0\.name: an interface name/],
      ['    - {usb_path: "usb1", role: uplink}\n', /hardware\.dongles\.0\.usb_path: a USB port path/],
      ['    - {usb_path: "1-1.2", role: trunk}\n', /hardware\.dongles\.0\.role/],
    ];
    for (const [entries, re] of bad) {
      const msg = configError(() => load(`hardware:\n  dongles:\n${entries}`));
      assert.match(msg, re);
      assert.ok(msg.startsWith(`${file}: `), msg);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('the dongles map: explicit entries merge with discovery; one name with two roles is refused', () => {
  const s = scan('pi4');
  const cfg = (x: object) => ConfigSchema.parse({ dongles: {}, ...x });
  assert.equal(applyDiscovery(cfg({ hardware: {} }), s).dongles, { up0: 'uplink', mir0: 'mirror' });
  // Explicit names and roles count as taken: the first dongle becomes the mirror, named around wan0.
  assert.equal(applyDiscovery(cfg({ hardware: {}, dongles: { wan0: 'uplink' } }), s).dongles, { wan0: 'uplink', mir0: 'mirror', lab1: 'lab' });
  const simDefault = ConfigSchema.parse({});
  assert.is(applyDiscovery(simDefault, s), simDefault, 'no hardware section: the config as it is');
  const a = assignDongles(s, hw({ dongles: [{ usb_path: '1-1.2', name: 'up0', role: 'uplink' }] })).assignments;
  assert.equal(mergeDongleMaps({ up0: 'uplink', x9: 'lab' }, a), { up0: 'uplink', x9: 'lab', mir0: 'mirror' });
  assert.match(configError(() => mergeDongleMaps({ up0: 'mirror' }, a)), 'dongles.up0: mirror here, but hardware.dongles.0 (USB port 1-1.2) makes up0 an uplink');
});

test('the config as the CLI and agent load it: with `hardware`, the dongles map comes from the scan of hardware.sysfs', () => {
  const dir = tmp();
  try {
    const file = join(dir, 'dovelab.yaml');
    writeFileSync(file, `hardware:\n  sysfs: ${join(FIX, 'pi4')}\n  dongles:\n    - {mac: "00:e0:4c:68:00:02", name: wan0, role: uplink}\n`);
    assert.equal(withDiscoveredDongles(loadConfig(file, {})).dongles, { wan0: 'uplink', mir0: 'mirror' });
    writeFileSync(file, `hardware:\n  sysfs: ${join(FIX, 'sim')}\n`);
    assert.equal(withDiscoveredDongles(loadConfig(file, {})).dongles, ConfigSchema.parse({}).dongles, 'the sim fixture gives the sim world map');
    writeFileSync(file, 'dongles: {up0: uplink}\n');
    assert.equal(withDiscoveredDongles(loadConfig(file, {})).dongles, { up0: 'uplink' }, 'no hardware section: as written');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('.link files: Path= udev\'s ID_PATH when present, the controller and port when absent, MACAddress= by MAC; NetworkManager text', () => {
  const s = scan('pi4');
  const { assignments } = assignDongles(s, hw({ dongles: [
    { usb_path: '1-1.2', name: 'up0', role: 'uplink' },
    { mac: '00:e0:4c:68:00:02', name: 'mir0', role: 'mirror' },
    { usb_path: '1-1.3', role: 'lab' },
    { usb_path: '5-1', role: 'lab' },
  ] }));
  const plan = linkFiles(assignments, s);
  assert.equal(plan.files.map((f) => f.file), ['10-dovelab-up0.link', '10-dovelab-mir0.link', '10-dovelab-lab1.link']);
  assert.is(plan.files[0]!.text, [
    '# Written by dovelab (`dovelab hardware links`): the uplink dongle up0.',
    '# Matches whatever dongle is in USB port 1-1.2 (udev\'s ID_PATH of eth1).',
    '[Match]', `Path=${VL805}-usb-0:1.2:1.0`, '', '[Link]', 'Name=up0', ''].join('\n'));
  assert.match(plan.files[1]!.text, /\n\[Match\]\nMACAddress=00:e0:4c:68:00:02\n\n\[Link\]\nName=mir0\n$/);
  assert.match(plan.files[2]!.text, `\nPath=${VL805}-usb-0:1.3:*\n`);
  assert.equal(plan.skipped, [{ name: 'lab2', reason: 'USB port 5-1: no dongle there and no USB bus 5 on this machine, so no udev path to match' }]);
  for (const f of plan.files) assert.not.match(f.text, /Name=eth/);
  assert.is(nmUnmanaged(assignments), [
    '# Written by dovelab (`dovelab hardware links`): the dongles belong to Dovelab, not NetworkManager.',
    '[keyfile]', 'unmanaged-devices=interface-name:up0;interface-name:mir0;interface-name:lab1;interface-name:lab2;', ''].join('\n'));
  // A present dongle whose path cannot be derived (no platform/PCI parent) is matched by its MAC.
  const noPath: NicScan = { interfaces: s.interfaces.map((n) => (n.name === 'eth1' ? { ...n, idPath: undefined } : n)), usbBuses: {} };
  assert.match(linkFiles(assignDongles(noPath, hw()).assignments, noPath).files[0]!.text, /MACAddress=00:e0:4c:36:00:01\n[\s\S]*Name=up0/);
});

test('writeLinkFiles: writes the files and the NM drop-in, removes only our stale .link files', () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, '10-dovelab-old0.link'), 'stale');
    writeFileSync(join(dir, '99-default.link'), 'not ours');
    const s = scan('pi4');
    const { assignments } = assignDongles(s, hw());
    const r = writeLinkFiles(dir, linkFiles(assignments, s), { file: join(dir, 'nm', '90-dovelab-unmanaged.conf'), text: nmUnmanaged(assignments) });
    assert.equal(readdirSync(dir).sort(), ['10-dovelab-mir0.link', '10-dovelab-up0.link', '99-default.link', 'nm']);
    assert.equal(r.removed, [join(dir, '10-dovelab-old0.link')]);
    assert.match(readFileSync(join(dir, '10-dovelab-mir0.link'), 'utf8'), `Path=${VL805}-usb-0:2:1.0\n`);
    assert.match(readFileSync(join(dir, 'nm', '90-dovelab-unmanaged.conf'), 'utf8'), 'unmanaged-devices=interface-name:up0;interface-name:mir0;');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('console edit of the config: keeps comments, updates or adds an entry, removes one, refuses a bad result', () => {
  const text = '# the classroom Pi\nweb:\n  name: room12 # kiosk name\nhardware:\n  dongles:\n    - usb_path: "1-1.2" # the black socket\n      role: uplink\n';
  const mirror = editDongleConfig(text, { match: { usbPath: '1-1.2' }, role: 'mirror', name: 'mir0' });
  assert.match(mirror, '# the classroom Pi');
  assert.match(mirror, '# the black socket');
  assert.equal(ConfigSchema.parse(parseYaml(mirror)).hardware!.dongles, [{ usb_path: '1-1.2', role: 'mirror', name: 'mir0' }]);
  const added = editDongleConfig(mirror, { match: { mac: '00:E0:4C:68:00:02' }, role: 'uplink' });
  assert.equal(ConfigSchema.parse(parseYaml(added)).hardware!.dongles.map((d) => [d.usb_path ?? d.mac, d.role]), [['1-1.2', 'mirror'], ['00:e0:4c:68:00:02', 'uplink']]);
  const removed = editDongleConfig(added, { match: { usbPath: '1-1.2' }, remove: true });
  assert.equal(ConfigSchema.parse(parseYaml(removed)).hardware!.dongles.length, 1);
  assert.equal(ConfigSchema.parse(parseYaml(editDongleConfig('', { match: { usbPath: '2-1' }, role: 'lab' }))).hardware!.dongles, [{ usb_path: '2-1', role: 'lab' }]);
  assert.match(configError(() => editDongleConfig(added, { match: { usbPath: '1-1.3' }, role: 'lab', name: 'mir0' }, 'f.yaml')), 'f.yaml: hardware.dongles.2.name: mir0 is already hardware.dongles.0.name');
  assert.match(configError(() => editDongleConfig(text, { match: { usbPath: '9-9' }, remove: true }, 'f.yaml')), 'f.yaml: hardware.dongles has no entry with usb_path 9-9');
  // The file: written whole, mode kept.
  const dir = tmp();
  try {
    const file = join(dir, 'dovelab.yaml');
    writeFileSync(file, text, { mode: 0o600 });
    updateDongleConfig(file, { match: { usbPath: '1-1.2' }, role: 'lab' });
    assert.is(statSync(file).mode & 0o777, 0o600);
    assert.equal(loadConfig(file, {}).hardware!.dongles, [{ usb_path: '1-1.2', role: 'lab' }]);
    assert.equal(readdirSync(dir), ['dovelab.yaml'], 'no temp file left');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('`dovelab hardware scan --json` on a fixture prints the contract fields; `links` writes the files', () => {
  const dir = tmp();
  try {
    const env = { ...process.env, DOVELAB_CONFIG: join(dir, 'none.yaml') };
    const r = spawnSync(process.execPath, [CLI, 'hardware', 'scan', '--sysfs', join(FIX, 'pi4'), '--json'], { encoding: 'utf8', env, timeout: 30_000 });
    assert.is(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { interfaces: Record<string, unknown>[] };
    for (const i of out.interfaces) for (const k of ['name', 'driver', 'usbPath', 'mac', 'carrier', 'dongle', 'role']) assert.ok(k in i, `${String(i.name)} has ${k}`);
    const eth1 = out.interfaces.find((i) => i.name === 'eth1')!;
    assert.equal([eth1.driver, eth1.usbPath, eth1.mac, eth1.carrier, eth1.dongle, eth1.role], ['r8152', '1-1.2', '00:e0:4c:36:00:01', true, true, 'uplink']);
    const lo = out.interfaces.find((i) => i.name === 'lo')!;
    assert.equal([lo.driver, lo.usbPath, lo.dongle, lo.role], [null, null, false, null]);
    const table = spawnSync(process.execPath, [CLI, 'hardware', 'scan', '--sysfs', join(FIX, 'pi3bplus')], { encoding: 'utf8', env, timeout: 30_000 });
    assert.is(table.status, 0, table.stderr);
    assert.match(table.stdout, /^NAME +DRIVER +BUS +USB +MAC/);
    assert.match(table.stdout, /\neth0 +lan78xx +usb +1-1\.1\.1 .* no +-\n/);
    const links = spawnSync(process.execPath, [CLI, 'hardware', 'links', '--sysfs', join(FIX, 'pi5'), '--out', join(dir, 'network')], { encoding: 'utf8', env, timeout: 30_000 });
    assert.is(links.status, 0, links.stderr);
    assert.match(readFileSync(join(dir, 'network', '10-dovelab-up0.link'), 'utf8'), 'Path=platform-xhci-hcd.1-usb-0:1:1.0\n');
    // With discovery on in the config, the same roles (its own names do not count twice).
    writeFileSync(join(dir, 'on.yaml'), `hardware: {sysfs: ${JSON.stringify(join(FIX, 'pi4'))}}\n`);
    const on = spawnSync(process.execPath, [CLI, 'hardware', 'scan', '--json'], { encoding: 'utf8', env: { ...env, DOVELAB_CONFIG: join(dir, 'on.yaml') }, timeout: 30_000 });
    assert.is(on.status, 0, on.stderr);
    const onOut = JSON.parse(on.stdout) as { discovery: boolean; interfaces: { name: string; role: string | null; assignedName: string | null }[] };
    assert.is(onOut.discovery, true);
    assert.equal(onOut.interfaces.filter((i) => i.role).map((i) => `${i.name}:${i.role}:${i.assignedName}`), ['eth1:uplink:up0', 'eth2:mirror:mir0']);
    const role = spawnSync(process.execPath, [CLI, 'hardware', 'role', '1-1.2', 'mirror', '--name', 'mir0'], { encoding: 'utf8', env, timeout: 30_000 });
    assert.is(role.status, 0, role.stderr);
    assert.equal(loadConfig(join(dir, 'none.yaml'), {}).hardware!.dongles, [{ usb_path: '1-1.2', name: 'mir0', role: 'mirror' }]);
    const badRole = spawnSync(process.execPath, [CLI, 'hardware', 'role', '1-1.2', 'trunk'], { encoding: 'utf8', env, timeout: 30_000 });
    assert.is(badRole.status, 1);
    assert.match(badRole.stderr, 'role: expected one of uplink, mirror, lab, unused, got trunk');
    const missing = spawnSync(process.execPath, [CLI, 'hardware', 'scan', '--sysfs', join(dir, 'nothing')], { encoding: 'utf8', env, timeout: 30_000 });
    assert.is(missing.status, 1);
    assert.match(missing.stderr, /^dovelab: .*nothing\/class\/net/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('this machine\'s /sys: the scan does not crash; virtual ones are virtual, nothing without USB is a dongle', () => {
  const s = scanNics('/sys');
  assert.ok(s.interfaces.length > 0);
  assert.ok(nic(s, 'lo').virtual);
  for (const n of s.interfaces) {
    if (n.bus !== 'usb') assert.not.ok(n.dongle, `${n.name} (${n.bus ?? 'virtual'}) is not a dongle`);
    if (n.name.startsWith('veth') || n.name === 'docker0') assert.ok(n.virtual, `${n.name} is virtual`);
  }
  const eth0 = s.interfaces.find((n) => n.name === 'eth0');
  if (eth0) assert.equal([eth0.virtual, eth0.dongle, typeof eth0.mac], [false, false, 'string']);
  assert.ok(hardwareReport(s, ConfigSchema.parse({})).interfaces.length === s.interfaces.length);
});

test('udevIdPath and port order: pure helpers', () => {
  const d = (sysname: string, subsystem?: string, devtype?: string) => ({ sysname, ...(subsystem ? { subsystem } : {}), ...(devtype ? { devtype } : {}), attrs: {}, ofNode: false });
  assert.is(udevIdPath([d('virtio2', 'virtio'), d('0000:00:03.0', 'pci'), d('pci0000:00')]), 'pci-0000:00:03.0');
  assert.is(udevIdPath([d('1-1:1.0', 'usb', 'usb_interface'), d('1-1', 'usb', 'usb_device'), d('usb1', 'usb', 'usb_device')]), undefined, 'no PCI/platform parent: none, like path_id');
  assert.is(udevIdPath([d('target0:0:0', 'scsi'), d('0000:00:01.0', 'pci')]), undefined, 'SCSI is not modelled');
  assert.equal(['2-1', '1-1.10', '1-1.9', '1-1.2.1', '1-1.2'].sort(compareUsbPaths), ['1-1.2', '1-1.2.1', '1-1.9', '1-1.10', '2-1']);
});


test.run();
