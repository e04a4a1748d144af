"""Build-time check: every distribution in the venv is pinned in constraints.txt
at exactly the installed version (pip/wheel, the installer's own tools, excepted)."""
import re
import sys
from importlib import metadata


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


pins = {}
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if line:
        name, _, version = line.partition("==")
        pins[norm(name)] = version.strip()

bad = []
for dist in metadata.distributions():
    name = norm(dist.metadata["Name"])
    if name in ("pip", "wheel"):
        continue
    if pins.get(name) != dist.version:
        bad.append(f"{name}=={dist.version} (pinned: {pins.get(name, 'not pinned')})")
if bad:
    sys.exit("unpinned or mismatched in the venv:\n  " + "\n  ".join(bad))
print(f"check_pins: all {len(pins)} pins match the venv")
