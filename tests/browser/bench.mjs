// tools/dev bench ui: from a scan typed in the packer UI to its verdict painted.
//
// The real stationd (PACKBENCH_STATIOND) on loopback, Debian's chromium headless at 1280x800.
// Each scan is typed as a wedge scanner types it and the next one waits for the verdict. The
// page itself takes the times, with the Performance API clock:
//   t0       the terminator's keydown (its event timestamp)
//   received the verdict message handled and the DOM updated
//   frame    the animation frame that paints it begins (requestAnimationFrame)
//   painted  that frame has been painted (a message posted from the frame callback runs)
// 500 scans by default (argument 1): 5 orders, each its id, 90 right items and 9 wrong ones.
import path from "node:path";

import { Station, freePort, launchChromium, percentile, tempDir, wedge } from "./station.mjs";

const total = Number(process.argv[2] || 500);
const perOrder = 100;
const orders = Math.max(1, Math.ceil(total / perOrder));
const wrongEvery = 10;

const ordersJson = {
  orders: [
    { id: "OTHER-1", lines: [{ sku: "CUP", name: "Yunomi cup", qty: 1, barcodes: ["4909876543214"] }] },
    ...Array.from({ length: orders }, (_, o) => ({
      id: `BENCH-${o}`,
      lines: [{ sku: "TEA", name: "Sencha green tea 100 g", qty: perOrder - 1 - Math.floor((perOrder - 1) / wrongEvery), barcodes: ["4901234567894"] }],
    })),
  ],
};

// The scans, in order: each order's id, then its items with a wrong item every tenth scan.
const scans = [];
for (let o = 0; o < orders && scans.length < total; ++o) {
  scans.push(`BENCH-${o}`);
  for (let i = 1; i < perOrder && scans.length < total; ++i) {
    scans.push(i % wrongEvery === 0 ? "4909876543214" : "4901234567894");
  }
}

const dir = tempDir("bench-ui");
const uiPort = await freePort();
const station = new Station({
  dir,
  files: { "orders.json": JSON.stringify(ordersJson) },
  config: `[station]
id = "bench-ui"
state_dir = "state"
[ui]
listen = "127.0.0.1:${uiPort}"
[orders]
file = "orders.json"
[[printer]]
name = "label"
type = "file"
directory = "prints"
[log]
level = "error"
`,
});

let code = 0;
let browser;
try {
  await station.start(uiPort);
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`http://127.0.0.1:${uiPort}/`);
  await page.waitForFunction(() => window.packbench.state().conn === "online");

  const started = Date.now();
  for (let i = 0; i < scans.length; ++i) {
    await wedge(page, scans[i]);
    await page.waitForFunction((n) => window.packbench.latencies.length >= n, i + 1, { polling: "raf" });
  }
  const seconds = (Date.now() - started) / 1000;
  const samples = await page.evaluate(() => window.packbench.latencies.slice());
  const verdicts = {};
  for (const s of samples) verdicts[s.verdict] = (verdicts[s.verdict] || 0) + 1;
  const painted = samples.map((s) => s.painted - s.t0);
  const frame = samples.map((s) => s.frame - s.t0);
  const received = samples.map((s) => s.received - s.t0);
  const sent = samples.map((s) => s.sent - s.t0);
  const arrived = samples.map((s) => s.arrived - s.t0);
  const fmt = (v) => v.toFixed(1).padStart(6);
  const line = (name, v) =>
    console.log(`  ${name.padEnd(40)} p50 ${fmt(percentile(v, 0.5))} ms   p99 ${fmt(percentile(v, 0.99))} ms   max ${fmt(Math.max(...v))} ms`);
  console.log(`${samples.length} scans typed into the packer UI at 1280x800 (${seconds.toFixed(1)} s), chromium headless`);
  console.log(`  verdicts: ${Object.entries(verdicts).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  line("Enter keydown -> scan sent", sent);
  line("in the station: scan received -> verdict out", samples.map((s) => s.station));
  line("Enter keydown -> verdict message arrives", arrived);
  line("Enter keydown -> verdict in the DOM", received);
  line("Enter keydown -> its frame begins", frame);
  line("Enter keydown -> verdict painted", painted);
  const p99 = percentile(painted, 0.99);
  console.log(`  goal: p99 <= 50 ms painted: ${p99 <= 50 ? "met" : "MISSED"}`);
  console.log(
    `BENCH ui_scan_to_paint p50_ms=${percentile(painted, 0.5).toFixed(1)} p99_ms=${p99.toFixed(1)} ` +
      `dom_p50_ms=${percentile(received, 0.5).toFixed(1)} dom_p99_ms=${percentile(received, 0.99).toFixed(1)} scans=${samples.length}`,
  );
  if (samples.length !== scans.length) {
    console.error(`expected ${scans.length} verdicts, measured ${samples.length}`);
    code = 1;
  }
} catch (e) {
  console.error(`bench ui: ${e.stack || e}\n${station.output()}`);
  code = 1;
} finally {
  if (browser) await browser.close();
  await station.stop();
}
process.exit(code);
