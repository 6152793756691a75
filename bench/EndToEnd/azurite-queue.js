// Azurite's queue service with its garbage collection every BENCH_QUEUE_GC_SECONDS seconds instead of every 60.
// Why: its collection deletes each unreferenced extent with a scan of all of them, so a minute of messages (thousands
// of extents) stalls the queue service for seconds at once; collecting more often keeps each collection short.
// docs/performance.md, "Azurite's queue garbage collection". Azurite's own arguments pass through.
"use strict";
const path = require("path");
const queue = path.join(__dirname, "..", "..", "node_modules", "azurite", "dist", "src", "queue");
const seconds = Number(process.env.BENCH_QUEUE_GC_SECONDS);
if (!(seconds > 0)) {
  throw new Error("BENCH_QUEUE_GC_SECONDS must be a positive number of seconds.");
}
require(path.join(queue, "utils", "constants")).DEFAULT_GC_INTERVAL_MS = seconds * 1000;
require(path.join(queue, "main"));
