// The sim world's "printer": answers mDNS for printer.local and _ipp._tcp (run inside its netns).
import makeMdns from 'multicast-dns';

const [address = '100.64.0.10'] = process.argv.slice(2);
const mdns = makeMdns({ interface: address, bind: '0.0.0.0', loopback: false });
const NAME = 'printer.local';
const SERVICE = '_ipp._tcp.local';
const INSTANCE = `Classroom printer.${SERVICE}`;

mdns.on('query', (q, rinfo) => {
  const answers: import('dns-packet').Answer[] = [];
  for (const question of q.questions) {
    const type = String(question.type);
    if (question.name === NAME && (type === 'A' || type === 'ANY')) {
      answers.push({ name: NAME, type: 'A', ttl: 120, data: address });
    }
    if (question.name === SERVICE && (type === 'PTR' || type === 'ANY')) {
      answers.push({ name: SERVICE, type: 'PTR', ttl: 120, data: INSTANCE });
      answers.push({ name: INSTANCE, type: 'SRV', ttl: 120, data: { port: 631, target: NAME, priority: 0, weight: 0 } });
      answers.push({ name: NAME, type: 'A', ttl: 120, data: address });
    }
  }
  if (!answers.length) return;
  // A query from a port other than 5353 is a one-shot ("legacy unicast", RFC 6762 6.7), e.g. dig.
  if (rinfo.port !== 5353) mdns.respond({ id: q.id, questions: q.questions, answers }, rinfo);
  else mdns.respond({ answers });
});
process.on('SIGTERM', () => { mdns.destroy(); process.exit(0); });
