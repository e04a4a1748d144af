// Layering rules for `npm run layering` (part of `npm run check`); DESIGN.md §4:
// "functional core, imperative shell: planning code never does I/O; adapters never decide."
// Paths are relative to the repository root. "Runtime" rules ignore `import type` and
// `import { type X }`-only imports (they vanish when compiled), so sharing types is fine.
/** Adapters: the code that talks to OVS, Faucet, Docker, the hardware and the processes. */
const ADAPTERS = '^agent/(net|docker|hardware|sys)/';
/** File system and process APIs of Node (with or without the node: prefix). */
const NODE_IO = '^(node:)?(fs|fs/promises|child_process)$';
const TYPE_ONLY = ['type-only'];
/** Faucet's config language (model, emitter, comparison): pure functions that live beside the Faucet adapter. */
const FAUCET_FORMAT = '^agent/net/faucet/(model|emit|compare|cookies)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import cycles make load order matter and blur the layers: break the cycle by moving the shared part down.',
      severity: 'error',
      from: { path: '^agent/' },
      to: { circular: true },
    },
    {
      name: 'planning-is-pure',
      comment: 'Pure planning (LabSpec -> desired state -> diff -> actions) does no I/O, so it is unit-testable without root: '
        + 'it imports no adapter and no fs/child_process. Sharing their types is fine.',
      severity: 'error',
      from: { path: '^agent/lab/(desired|diff|acl|checks|diagram|summary|interfaces|capture|plan[^/]*)\\.ts$' },
      to: { path: [ADAPTERS, NODE_IO], pathNot: FAUCET_FORMAT, dependencyTypesNot: TYPE_ONLY },
    },
    {
      name: 'lab-io-is-injected',
      comment: 'The lab engine and service get their I/O as an injected adapter set (so tests can pass fakes): '
        + 'they never import an adapter module at run time. Types of adapters are fine.',
      severity: 'error',
      from: { path: '^agent/lab/(engine|service|check-run|status|hotplug)\\.ts$' },
      to: { path: ADAPTERS, pathNot: FAUCET_FORMAT, dependencyTypesNot: TYPE_ONLY },
    },
    {
      name: 'faucet-format-is-pure',
      comment: 'The Faucet config language is shared by planning and the engine because it is pure: keep it so.',
      severity: 'error',
      from: { path: FAUCET_FORMAT },
      to: { path: [ADAPTERS, NODE_IO], pathNot: FAUCET_FORMAT, dependencyTypesNot: TYPE_ONLY },
    },
    {
      name: 'adapters-never-decide',
      comment: 'Adapters execute actions; deciding what to do is agent/lab. An adapter that needs a constant or '
        + 'helper from agent/lab means the logic sits in the wrong layer (types are fine).',
      severity: 'error',
      from: { path: '^agent/(net|docker|hardware)/' },
      to: { path: '^agent/lab/', dependencyTypesNot: TYPE_ONLY },
    },
    {
      name: 'lesson-knows-no-network',
      comment: 'Lessons are data: loading, validating, importing and compiling a pack never touches OVS, Faucet or Docker.',
      severity: 'error',
      from: { path: '^agent/lesson/' },
      to: { path: '^agent/(net|docker)/', dependencyTypesNot: TYPE_ONLY },
    },
    {
      name: 'kiosk-ui-only-api-types',
      comment: 'Browser code talks to the agent over HTTP/WebSocket only; it may share the API types, nothing else.',
      severity: 'error',
      from: { path: '^kiosk-ui/' },
      to: { path: '^agent/', pathNot: '^agent/web/api-types[^/]*$' },
    },
    {
      name: 'imports-resolve',
      comment: 'Every import must resolve: an import the tool cannot follow is invisible to the rules above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Keep `import type` edges (labelled type-only) so the rules can tell them apart.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
