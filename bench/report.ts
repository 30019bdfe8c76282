// How a TypeScript bench contributes to `npm run bench` (bench/run.sh): rows of the one results
// table and sections after it, appended as markdown to the file named by BENCH_MARKDOWN_OUT when
// it is set (bench/report.sh is the same for the shell benches). Without it they go to stdout.
// In that file a row is a line starting with "|"; a section is everything between the marker
// lines <!-- bench-section --> and <!-- /bench-section --> (so it may hold tables of its own).
import fs from "node:fs";
import os from "node:os";

export interface BenchRow {
  path: string;
  figure: string;
  /** The baseline measured in the same run, with its figure ("—" when there is none). */
  baseline: string;
  ratio: string;
  target: string;
  met: "yes" | "no" | "—";
  /** The 1-minute load average while the figure was measured (machineLoad()). */
  load: string;
}

function append(markdown: string): void {
  const file = process.env.BENCH_MARKDOWN_OUT;
  if (file) fs.appendFileSync(file, markdown);
  else process.stdout.write(markdown);
}

export function benchRow(row: BenchRow): void {
  const cells = [row.path, row.figure, row.baseline, row.ratio, row.target, row.met, row.load].map((cell) => cell.replaceAll("|", "\\|"));
  append(`| ${cells.join(" | ")} |\n`);
}

/** Markdown printed after the table (a query plan, per-run detail, tables of its own). */
export function benchSection(markdown: string): void {
  append(`<!-- bench-section -->\n${markdown.trimEnd()}\n<!-- /bench-section -->\n`);
}

export function machineLoad(): string {
  return os.loadavg()[0]!.toFixed(2);
}
