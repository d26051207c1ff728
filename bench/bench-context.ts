/** What every scenario of a bench run shares: its size, the servers' log level, progress, the target. */
import type { HerdConfig } from '../src/config/herd-config.js';
import type { LoadTarget } from './load-client.js';
import type { Progress } from './progress.js';

/** A herd the bench did not start (`--config`): its servers, and the external member it can play. */
export interface TargetHerd {
  readonly configFile: string;
  readonly config: HerdConfig;
  /** The servers to load (the config's non-external ones). */
  readonly servers: readonly (LoadTarget & { readonly name: string })[];
  /** An external server linked to every other one: the bench listens at its address as the observer. */
  readonly observer: { readonly name: string; readonly host: string; readonly port: number } | undefined;
  /** The herd's secret (HERD_SECRET, HERD_SECRET_FILE or the config's secretFile), for the observer's handshake. */
  readonly secret: Buffer | undefined;
}

/** Durations and sizes of one run. */
export interface BenchSizes {
  /** Load before each measured phase, ms. */
  readonly warmupMs: number;
  /** Measured time of each throughput phase, ms. */
  readonly durationMs: number;
  /** Measured time of the herd ingest at 1k/s, ms. */
  readonly fixedRateMs: number;
  /** Distinct clients of the memory scenario. */
  readonly memoryClients: number;
  /** Distinct clients of the anti-entropy catch-up scenario. */
  readonly catchUpClients: number;
  /** Starts of one server timed in the startup scenario. */
  readonly serverStarts: number;
  /** Starts of the whole herd timed in the startup scenario. */
  readonly herdStarts: number;
  /** Clients in the store of the startup scenario's large-store server. */
  readonly largeStoreClients: number;
  /** Idle time over which the heartbeat scenario counts a link's bytes, ms. */
  readonly heartbeatWindowMs: number;
  /** Updates of each ingest run of the dashboard scenario (with and without pages). */
  readonly dashboardUpdates: number;
  /** Rounds (one run without pages, one with) of the dashboard scenario. */
  readonly dashboardRounds: number;
  /** Clients held when the dashboard's time to first paint is measured. */
  readonly firstPaintClients: number;
  /** Page loads timed for the first paint. */
  readonly firstPaintRuns: number;
  /** Length of the soak's load, ms (`--soak-minutes` overrides it). */
  readonly soakMs: number;
  /** Interval of the soak's samples, ms. */
  readonly soakSampleMs: number;
  /** Interval of the soak's link flaps, ms (the first at half of it). */
  readonly soakFlapEveryMs: number;
  /** How long each flap keeps the link cut, ms. */
  readonly soakFlapDownMs: number;
  /** When the soak's reference sample is taken (the end of the warm-up), ms. */
  readonly soakReferenceMs: number;
}

/** Sizes of a full run (`npm run bench`): under 5 minutes on the 2-core reference box. */
export const FULL_SIZES: BenchSizes = {
  warmupMs: 1000,
  durationMs: 4000,
  fixedRateMs: 5000,
  memoryClients: 1_000_000,
  catchUpClients: 100_000,
  serverStarts: 5,
  herdStarts: 5,
  largeStoreClients: 1_000_000,
  heartbeatWindowMs: 20_000,
  dashboardUpdates: 60_000,
  dashboardRounds: 7,
  firstPaintClients: 1_000_000,
  firstPaintRuns: 3,
  soakMs: 30 * 60_000,
  soakSampleMs: 60_000,
  soakFlapEveryMs: 5 * 60_000,
  soakFlapDownMs: 10_000,
  soakReferenceMs: 5 * 60_000,
};

/** Sizes of `--quick`: every scenario briefly, for smoke tests. */
export const QUICK_SIZES: BenchSizes = {
  warmupMs: 200,
  durationMs: 600,
  fixedRateMs: 1000,
  memoryClients: 10_000,
  catchUpClients: 2_000,
  serverStarts: 1,
  herdStarts: 1,
  largeStoreClients: 10_000,
  heartbeatWindowMs: 3000,
  dashboardUpdates: 4_000,
  dashboardRounds: 1,
  firstPaintClients: 10_000,
  firstPaintRuns: 1,
  soakMs: 20_000,
  soakSampleMs: 5000,
  soakFlapEveryMs: 10_000,
  soakFlapDownMs: 2000,
  soakReferenceMs: 10_000,
};

/** The shared state of a run. */
export interface BenchContext {
  readonly sizes: BenchSizes;
  readonly quick: boolean;
  /** Log level of the servers the bench starts. */
  readonly logLevel: HerdConfig['logLevel'];
  readonly progress: Progress;
  /** Set with `--config`. */
  readonly target: TargetHerd | undefined;
  /** Client connections, C. */
  readonly connections: number;
  /** Extra node flags of the server processes the speed scenarios start (`--cpu-prof`). */
  readonly serverNodeArgs: readonly string[];
  /** The scale scenario's shapes, by id (`--scale-shapes`). @default every shape */
  readonly scaleShapes?: readonly string[];
  /** Whether the scale scenario's herds run with `store.durable: false` (`--scale-memory-store`). */
  readonly scaleMemoryStore: boolean;
}
