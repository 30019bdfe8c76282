// CPU time used by processes outside this benchmark, to tell a clean measurement from one that
// shared the machine with something else (the benchmark's own process tree and kernel threads are
// left out; time of exited children is counted through their parents' cutime/cstime).
//
//   node bench/foreign-cpu.mjs ticks <root-pid>          → clock ticks used so far by other processes
//   node bench/foreign-cpu.mjs percent <root-pid> [s]    → their CPU over the next s seconds, % of one core
import { readdirSync, readFileSync } from "node:fs";

const [mode, rootArg, secondsArg = "1"] = process.argv.slice(2);
const root = Number(rootArg);
const hz = 100; // USER_HZ: /proc/<pid>/stat is in 1/100 s on Linux

function snapshot() {
  const procs = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let text;
    try {
      text = readFileSync(`/proc/${name}/stat`, "latin1");
    } catch {
      continue; // gone meanwhile
    }
    const f = text.slice(text.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
    procs.set(Number(name), { ppid: Number(f[1]), flags: Number(f[6]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
  }
  const ours = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = procs.get(p)?.ppid ?? 0, hops++) if (p === root || p === process.pid) return true;
    return false;
  };
  let total = 0;
  for (const [pid, p] of procs) {
    const kernelThread = (p.flags & 0x00200000) !== 0 || pid === 2 || p.ppid === 2; // PF_KTHREAD
    if (!kernelThread && !ours(pid)) total += p.ticks;
  }
  return total;
}

if (mode === "ticks") {
  console.log(snapshot());
} else if (mode === "percent") {
  const before = snapshot();
  await new Promise((resolve) => setTimeout(resolve, Number(secondsArg) * 1000));
  console.log(Math.round((100 * (snapshot() - before)) / hz / Number(secondsArg)));
} else {
  console.error("usage: node bench/foreign-cpu.mjs ticks|percent <root-pid> [seconds]");
  process.exit(2);
}
