// Servers started by imported startups become TCP tasks from a client (import/services.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serviceTasks, startedServices } from '../../agent/lesson/import/services.js';
import { reachTasks, MAX_TASKS } from '../../agent/lesson/import/finish.js';
import type { LessonDraft } from '../../agent/lesson/import/types.js';

const kinds = (script: string) => startedServices(script).map((s) => `${s.kind}:${s.port}`);

test('the ways startups start a web or DNS server', () => {
  assert.equal(kinds('systemctl start apache2'), ['web:80']);
  assert.equal(kinds('/etc/init.d/apache2 start'), ['web:80']);
  assert.equal(kinds('service apache2 restart'), ['web:80']);
  assert.equal(kinds('apache2ctl start'), ['web:80']);
  assert.equal(kinds('systemctl enable --now nginx.service'), ['web:80']);
  assert.equal(kinds('systemctl start named'), ['dns:53']);
  assert.equal(kinds('service bind9 start'), ['dns:53']);
  assert.equal(kinds('/etc/init.d/bind start'), ['dns:53']);
  assert.equal(kinds('ip a add 10.0.0.1/24 dev eth0\n/etc/init.d/named start\nsystemctl start apache2'), ['dns:53', 'web:80']);
});

test('what starts no server: stops, status, enable without --now, other services, comments', () => {
  assert.equal(kinds('systemctl stop apache2'), []);
  assert.equal(kinds('/etc/init.d/apache2 status'), []);
  assert.equal(kinds('systemctl enable apache2'), []);
  assert.equal(kinds('systemctl start frr\nservice ssh start'), []);
  assert.equal(kinds('# systemctl start apache2'), []);
  assert.equal(kinds('echo apache2 named'), []);
});

const host = (ip: string, startup?: string, gateway?: string) => ({
  interfaces: { eth0: { network: 'lan', ip, ...(gateway ? { gateway } : {}) } }, ...(startup ? { startup } : {}),
});
const lesson = (hosts: LessonDraft['hosts']): LessonDraft => ({ dovelab: 1, id: 'svc', networks: { lan: {} }, hosts });

test('a client with a gateway connects to each server; without a client, no task', () => {
  const l = lesson({
    r1: host('198.51.100.1/24'),
    pc1: host('198.51.100.10/24', 'ip route add default via 198.51.100.1', '198.51.100.1'),
    web: host('198.51.100.20/24', 'systemctl start apache2'),
    dns: host('198.51.100.30/24', 'service bind9 start'),
  });
  assert.equal(serviceTasks(l), [
    { id: 'web-pc1-web', title: 'pc1 connects to the web server on web (TCP 80)', check: { reach: { from: 'pc1', to: 'web', tcp: 80 } } },
    { id: 'dns-pc1-dns', title: 'pc1 connects to the DNS server on dns (TCP 53)', check: { reach: { from: 'pc1', to: 'dns', tcp: 53 } } },
  ]);
  // Without a gateway anywhere the first addressed non-server is the client.
  assert.equal(serviceTasks(lesson({ a: host('198.51.100.2/24'), s: host('198.51.100.3/24', 'systemctl start named') })).map((t) => t.id), ['dns-a-s']);
  // Only servers (or no addresses): nobody to be the client.
  assert.equal(serviceTasks(lesson({ s: host('198.51.100.3/24', 'systemctl start named'), t: host('198.51.100.4/24', 'systemctl start apache2') })), []);
});

test('reach tasks: service tasks keep their place when the neighbours fill the budget', () => {
  const hosts: LessonDraft['hosts'] = {};
  for (let k = 1; k <= 6; k++) hosts[`pc${k}`] = host(`198.51.100.${k}/24`);
  hosts.srv = host('198.51.100.50/24', 'systemctl start apache2');
  const tasks = reachTasks(lesson(hosts));
  assert.is(tasks.length, MAX_TASKS);
  assert.is(tasks[tasks.length - 1]!.id, 'web-pc1-srv');
  // Control: without the server line, the same lab has only ping tasks.
  hosts.srv = host('198.51.100.50/24');
  assert.ok(reachTasks(lesson(hosts)).every((t) => t.id.startsWith('reach-')));
});

test.run();
