// Which images a lesson's hosts need, and which of them this appliance lacks (for `dovelab
// lesson validate`). Pure: the caller lists the images dockerd has.
import type { Topology } from './schema.js';
import type { Problem } from './load.js';

/** The recipes `dovelab images build` makes (image-build/images), which may be named in a lesson. */
const OUR_RECIPES = /^dovelab\/(labhost|router|services)(:latest)?$/;

/** image -> the hosts that use it (a host without `image` uses `defaultImage`). */
export function lessonImages(t: Topology, defaultImage: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [h, host] of Object.entries(t.hosts)) {
    const image = host.image ?? defaultImage;
    m.set(image, [...(m.get(image) ?? []), h]);
  }
  return m;
}

/** `have`: repository:tag names dockerd lists. An image without a tag means :latest, as in docker. */
export function missingImageProblems(t: Topology, defaultImage: string, have: ReadonlySet<string>): Problem[] {
  const out: Problem[] = [];
  for (const [image, hosts] of lessonImages(t, defaultImage)) {
    const tagged = /:[^/]+$/.test(image) ? image : `${image}:latest`;
    if (have.has(image) || have.has(tagged)) continue;
    const ours = OUR_RECIPES.exec(image);
    out.push({
      path: `hosts.${hosts[0]}.image`,
      message: `${image} (used by ${hosts.join(', ')}) is not on this appliance: ${ours
        ? `build it with \`dovelab images build ${ours[1]}\``
        : 'load it (`docker load`) or use one of ours: dovelab/labhost, dovelab/router, dovelab/services'}`,
    });
  }
  return out;
}
