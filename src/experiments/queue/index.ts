// Distributed sweeps over BullMQ on Redis, as the command line loads them (lazily: BullMQ and ioredis cost
// every other command ~0.5 s): connection.ts reaches Redis, coordinator.ts runs a study's cells on the
// workers and collects their results, status.ts is the operator's view; worker.ts and processor.ts are
// `tms worker`, wire.ts is what travels between them.

export * from "./connection.js";
export * from "./coordinator.js";
export * from "./status.js";
export { DEFAULT_ATTEMPTS, jobIdOf, QUEUE_NAME } from "./wire.js";
