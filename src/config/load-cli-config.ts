// Config for the operator commands (enqueue, status, tail, …). Where Redis is, in order: REDIS_URL or
// REDIS_CLUSTER_NODES when set; else the Redis `npm start` recorded in $DATA_DIR/demo.json; else the
// default redis://127.0.0.1:6379.
import { demoDataDir, readDemoState } from './demo-state.js';
import { type Config, loadConfig } from './load-config.js';

export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): Config {
  if (env.REDIS_URL || env.REDIS_CLUSTER_NODES) return loadConfig(env);
  const recorded = readDemoState(demoDataDir(env)).redisUrl;
  return loadConfig(recorded ? { ...env, REDIS_URL: recorded } : env);
}
