// Samples a process's resident set size (VmRSS in /proc/<pid>/status) every <interval> ms and
// prints "<unix ms> <RSS KiB>" lines until the process exits or this sampler gets SIGTERM.
//
//   node bench/rss-sampler.mjs <pid> [interval-ms] > samples
import { readFileSync, writeSync } from "node:fs";

const pid = Number(process.argv[2]);
const interval = Number(process.argv[3] ?? 20);
if (!Number.isInteger(pid) || pid <= 0) {
  console.error("usage: node bench/rss-sampler.mjs <pid> [interval-ms]");
  process.exit(2);
}

function sample() {
  let status;
  try {
    status = readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    process.exit(0); // the process is gone
  }
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kib) writeSync(1, `${Date.now()} ${kib}\n`);
}

sample();
setInterval(sample, interval);
process.on("SIGTERM", () => {
  sample();
  process.exit(0);
});
