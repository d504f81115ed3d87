// Dependencies point one way: edges → services → infrastructure → contract. See README "Architecture".
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'contract-is-pure',
      severity: 'error',
      from: { path: '^src/contract' },
      to: { path: '^src/(?!contract|errors)' },
    },
    {
      name: 'simulator-depends-on-contract-only',
      severity: 'error',
      from: { path: '^src/simulator' },
      to: { path: '^src/(?!simulator|contract|errors)' },
    },
    {
      name: 'only-cli-imports-simulator',
      severity: 'error',
      from: { path: '^src/(?!cli|simulator)' },
      to: { path: '^src/simulator' },
    },
    { name: 'worker-not-webhook', severity: 'error', from: { path: '^src/worker' }, to: { path: '^src/webhook' } },
    { name: 'webhook-not-worker', severity: 'error', from: { path: '^src/webhook' }, to: { path: '^src/worker' } },
    {
      name: 'infrastructure-not-services',
      severity: 'error',
      from: { path: '^src/(tasks|storage|provider|config|outputs|tokens|http)' },
      to: { path: '^src/(producer|worker|webhook|events|status|control|relay|service|metrics|dashboard|cli)' },
    },
    {
      name: 'services-not-edges',
      severity: 'error',
      from: { path: '^src/(producer|worker|webhook|events|status|control|relay|metrics)' },
      to: { path: '^src/(cli|dashboard|service)' },
    },
    {
      // README "Guarantees": output checks read headers; sharp decodes, and stays for thumbnails and the simulator.
      name: 'store-path-without-sharp',
      severity: 'error',
      from: { path: '^src/(outputs|worker|webhook|storage|tasks)' },
      to: { path: 'node_modules/sharp' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
