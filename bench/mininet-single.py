#!/usr/bin/python3
# Mininet's namespace-only floor (issue 13): `--topo single,N` on a Linux bridge (`--switch lxbr`,
# no controller) until every host answers a ping of its neighbour, then Mininet's own pingall.
# Run by bench/mininet.ts as root under the stack lock; prints one JSON line. Debian's python3 (the
# mininet package installs there). Addresses: 198.51.100.0/24, inside Mininet's own namespaces.
import json
import sys
import time

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import SingleSwitchTopo

n = int(sys.argv[1]) if len(sys.argv) > 1 else 24
setLogLevel('error')
out = {'hosts': n, 'switch': 'lxbr', 'controller': 'none'}
t0 = time.monotonic()
net = Mininet(topo=SingleSwitchTopo(n), switch=LinuxBridge, controller=None, ipBase='198.51.100.0/24', autoSetMacs=True)
try:
    net.start()
    out['started_ms'] = round((time.monotonic() - t0) * 1000)
    hosts = net.hosts
    for i, h in enumerate(hosts):
        to = hosts[(i + 1) % n].IP()
        for attempt in range(61):
            r = h.cmd('ping -c 1 -W 1', to)
            if ' 0% packet loss' in r:
                break
        else:
            raise RuntimeError('%s never reached %s: %s' % (h.name, to, r.strip().splitlines()[-1:]))
    out['all_reachable_ms'] = round((time.monotonic() - t0) * 1000)
    t1 = time.monotonic()
    out['pingall_loss_pct'] = net.pingAll(timeout='1')
    out['pingall_ms'] = round((time.monotonic() - t1) * 1000)
finally:
    t2 = time.monotonic()
    net.stop()
    out['stop_ms'] = round((time.monotonic() - t2) * 1000)
print(json.dumps(out), flush=True)
