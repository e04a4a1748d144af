// containerlab's `httpd` (Docker's official Apache image) -> dovelab/services: the document root
// moves from /usr/local/apache2/htdocs to /var/www/html, the server is started by the startup (the
// httpd image starts it itself), and what ours does not read (httpd.conf) is named in the report.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closestImage } from '../../agent/lesson/import/images.js';
import { importLab } from '../../agent/lesson/import/index.js';
import { scratchLab } from '../fixtures/import/helpers.js';

const TOPOLOGY = `name: web
topology:
  nodes:
    web:
      kind: linux
      image: httpd:2.4
      binds:
        - site/index.html:/usr/local/apache2/htdocs/index.html
        - site/hello.cgi:/usr/local/apache2/cgi-bin/hello.cgi
        - site/httpd.conf:/usr/local/apache2/conf/httpd.conf
      exec:
        - ip address add 198.51.100.10/24 dev eth1
    client:
      kind: linux
      image: alpine:3
      exec:
        - ip address add 198.51.100.20/24 dev eth1
  links:
    - endpoints: ["web:eth1", "client:eth1"]
`;

test('closestImage: httpd (any tag or registry) is dovelab/services, started by a line the startup gets, with its folders moved', () => {
  for (const image of ['httpd', 'httpd:2.4', 'docker.io/library/httpd:alpine']) {
    const c = closestImage(image, 'ip link set eth1 up');
    assert.is(c?.image, 'dovelab/services', image);
    assert.is(c?.starts, '/etc/init.d/apache2 start', image);
    assert.equal(c?.moves?.map((m) => [m.from, m.to]), [['/usr/local/apache2/htdocs/', '/var/www/html/'], ['/usr/local/apache2/cgi-bin/', '/usr/lib/cgi-bin/'], ['/usr/local/apache2/conf/', undefined]]);
  }
  // A startup that starts Apache itself gets no second start line.
  assert.is(closestImage('httpd:2.4', 'systemctl start apache2')?.starts, undefined);
  assert.is(closestImage('httpd:2.4', 'httpd-foreground &')?.starts, undefined);
  // Control: kathara/apache (Debian's apache2 already) moves nothing and adds nothing.
  assert.equal(closestImage('kathara/apache', ''), { image: 'dovelab/services', why: closestImage('kathara/apache', '')!.why });
});

test('import: an httpd node serves its bound page from /var/www/html, is started at boot, and a client task checks TCP 80', () => {
  const lab = scratchLab({
    'web.clab.yml': TOPOLOGY,
    'site/index.html': '<p>hello</p>\n', 'site/hello.cgi': '#!/bin/sh\necho\n', 'site/httpd.conf': 'Listen 80\n',
  });
  try {
    const r = importLab(lab.dir);
    const web = r.lesson.hosts.web!;
    assert.is(web.image, 'dovelab/services');
    assert.equal(Object.keys(web.files ?? {}).sort(), ['/usr/lib/cgi-bin/hello.cgi', '/usr/local/apache2/conf/httpd.conf', '/var/www/html/index.html']);
    assert.is(web.files!['/var/www/html/index.html'], 'files/site/index.html');
    assert.match(web.startup!, /# httpd:2\.4 starts this by itself, dovelab\/services does not:\n\/etc\/init\.d\/apache2 start\n$/);
    const w = r.warnings.find((x) => x.startsWith('image "httpd:2.4"'));
    assert.ok(w, r.warnings.join('\n'));
    assert.match(w!, /web uses dovelab\/services, the closest of ours/);
    assert.match(w!, /the document root \/usr\/local\/apache2\/htdocs\/ is \/var\/www\/html\/ in ours \(1 file moved there\)/);
    assert.match(w!, /\/usr\/local\/apache2\/conf\/httpd\.conf: not read, httpd's configuration \(Debian's apache2 reads \/etc\/apache2/);
    assert.ok(r.lesson.tasks?.some((t) => t.id === 'web-client-web'), `a web task: ${JSON.stringify(r.lesson.tasks)}`);
  } finally { lab.remove(); }
});

test.run();
