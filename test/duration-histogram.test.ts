import { describe, expect, it } from "vitest";
import { DurationHistogram } from "../src/http/duration-histogram.js";

describe("DurationHistogram", () => {
  it("renders cumulative buckets, sum and count per series in the Prometheus text format", () => {
    const histogram = new DurationHistogram("demo_seconds", "A demo", ["route", "status"], [0.01, 0.1, 1]);
    const ok = histogram.labels("/a", "200");
    for (const seconds of [0.005, 0.01, 0.05, 2]) ok.observe(seconds);
    histogram.labels('/b"\\', "404").observe(0.5);
    expect(histogram.render()).toBe(
      [
        "# HELP demo_seconds A demo",
        "# TYPE demo_seconds histogram",
        'demo_seconds_bucket{route="/a",status="200",le="0.01"} 2',
        'demo_seconds_bucket{route="/a",status="200",le="0.1"} 3',
        'demo_seconds_bucket{route="/a",status="200",le="1"} 3',
        'demo_seconds_bucket{route="/a",status="200",le="+Inf"} 4',
        'demo_seconds_sum{route="/a",status="200"} 2.065',
        'demo_seconds_count{route="/a",status="200"} 4',
        'demo_seconds_bucket{route="/b\\"\\\\",status="404",le="0.01"} 0',
        'demo_seconds_bucket{route="/b\\"\\\\",status="404",le="0.1"} 0',
        'demo_seconds_bucket{route="/b\\"\\\\",status="404",le="1"} 1',
        'demo_seconds_bucket{route="/b\\"\\\\",status="404",le="+Inf"} 1',
        'demo_seconds_sum{route="/b\\"\\\\",status="404"} 0.5',
        'demo_seconds_count{route="/b\\"\\\\",status="404"} 1',
        "",
      ].join("\n"),
    );
  });
});
