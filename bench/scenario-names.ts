/**
 * The bench's scenarios by name, in running order (`--only` takes a comma-separated subset). A
 * module of its own so that parsing the command line does not load the scenarios.
 */
export const SCENARIOS = [
  'floor',
  'iamat',
  'iamat-sync',
  'herd',
  'whatsat',
  'cost',
  'redis',
  'memory',
  'startup',
  'catch-up',
  'places',
  'heartbeat',
  'dashboard',
  'scale',
  'soak',
] as const;

/** Scenarios a run includes only when `--only` names them (too long for every run). */
export const ON_REQUEST_ONLY: readonly ScenarioName[] = ['soak'];

/** One of {@link SCENARIOS}. */
export type ScenarioName = (typeof SCENARIOS)[number];
