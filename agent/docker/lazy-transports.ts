// dockerode loads two transports we never use when it is imported: docker-modem's SSH transport
// (ssh2, for DOCKER_HOST=ssh://…) and its BuildKit session (gRPC, for `buildImage` with
// version 2). Together about 5 MB of a Pi's RAM in every agent and CLI process (bench:memory).
// Both are required at the top of their files and both export a single function: this hands
// their requirer a function that loads the real module on its first call. Imported before
// dockerode (agent/docker/client.ts); a dockerode that moved these files is simply not matched.
import Module, { createRequire } from 'node:module';

/** The requests deferred: request -> the end of the requiring file's path. */
const DEFERRED: Record<string, string> = {
  './ssh': '/docker-modem/lib/modem.js',
  './session': '/dockerode/lib/docker.js',
};

type Loader = (request: string, parent: { filename?: string } | undefined, isMain: boolean) => unknown;
const mod = Module as unknown as { _load: Loader };
const marker = Symbol.for('dovelab.lazyTransports');

if (!(mod._load as unknown as Record<symbol, boolean>)[marker]) {
  const load = mod._load;
  const lazy: Loader = function (this: unknown, request, parent, isMain) {
    const from = DEFERRED[request];
    if (from && parent?.filename?.replace(/\\/g, '/').endsWith(from)) {
      const req = createRequire(parent.filename);
      let real: ((...a: unknown[]) => unknown) | undefined;
      return function deferredTransport(this: unknown, ...args: unknown[]) {
        // By its resolved path: the request itself would be deferred again.
        real ??= req(req.resolve(request)) as (...a: unknown[]) => unknown;
        return real.apply(this, args);
      };
    }
    return load.call(this, request, parent, isMain);
  };
  (lazy as unknown as Record<symbol, boolean>)[marker] = true;
  mod._load = lazy;
}
