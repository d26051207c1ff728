/** The cuttable loopback proxy of the bench (bench/cuttable-proxy.ts), for the partition tests. */
export { CuttableProxy } from '../../bench/cuttable-proxy.js';
