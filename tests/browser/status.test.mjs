// The packer UI's status bar in a real browser, against the real stationd, with real peers on
// loopback: a zpl-tcp printer pointed at a virtual Zebra that answers ~HS from flags this test
// sets (zpl_printer.mjs), and [sync] pointed at an HTTP collector that answers 200 or 503 or is
// switched off. The packer must see each printer's state (ready, paper out, not answering,
// offline) and whether the back office hears the station, with what waits for it.
//
// Waits are on events (a selector matching, a ~HS heard, a job or a request arriving), never
// sleeps. Screenshots go into PACKBENCH_BROWSER_OUTPUT as status-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

import { Station, freePort, launchChromium, scan, tempDir } from "./station.mjs";
import { VirtualZplPrinter } from "./zpl_printer.mjs";

const OUT = process.env.PACKBENCH_BROWSER_OUTPUT || path.join(process.cwd(), "browser-output");
fs.mkdirSync(OUT, { recursive: true });
for (const f of fs.readdirSync(OUT)) if (/^status-.*\.png$/.test(f)) fs.rmSync(path.join(OUT, f));

const TEA = "4901234567894";
const ORDERS = {
  orders: ["S-1", "S-2", "S-3", "S-4"].map((id) => ({
    id,
    lines: [{ sku: "TEA-SENCHA-100", name: "Sencha green tea 100 g", qty: 1, barcodes: [TEA] }],
  })),
};

// The back office's webhook: answers `status` to every batch (recording the events of those it
// takes), or is switched off with close() and on again with listen(port). Emits "request".
class Collector extends EventEmitter {
  constructor() {
    super();
    this.status = 200;
    this.events = [];
    this.port = 0;
  }

  async listen(port = 0) {
    this.server = http.createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const status = this.status;
        if (status === 200) this.events.push(...JSON.parse(body));
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(status === 200 ? "{}" : '{"error":"maintenance"}');
        this.emit("request", status);
      });
    });
    this.server.listen(port, "127.0.0.1");
    await once(this.server, "listening");
    this.port = this.server.address().port;
  }

  async close() {
    const closed = once(this.server, "close");
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }
}

let station;
let uiPort;
let printer;
let collector;
let browser;
let page;
const pageErrors = [];

const PRINTER = '#st-devices .chip[data-kind="printer"][data-name="label"]';

async function shot(name) {
  await page.screenshot({ path: path.join(OUT, `status-${name}.png`) });
}

async function text(selector) {
  return (await page.textContent(selector)) ?? "";
}

// Waits for the printer's chip to be in `state` with `words` in it.
async function printerShows(state, words) {
  try {
    await page.waitForFunction(
      ([sel, s, w]) => {
        const chip = document.querySelector(sel);
        return chip && chip.dataset.state === s && chip.textContent.includes(w);
      },
      [PRINTER, state, words],
      { timeout: 20000 },
    );
  } catch (e) {
    const chip = await page.$eval(PRINTER, (c) => `${c.dataset.state}: ${c.textContent} (${c.title})`).catch(() => "none");
    throw new Error(`the printer chip never showed ${state} "${words}"; it shows ${chip}\n${e.message}`);
  }
}

async function depth() {
  return Number(await page.getAttribute("#st-outbox", "data-depth"));
}

async function health() {
  return (await fetch(`http://127.0.0.1:${uiPort}/healthz`)).json();
}

// Packs one order through the page, as a wedge scanner types: the order, then its one item.
async function pack(order) {
  assert.equal((await scan(page, order)).verdict, "order_opened");
  assert.equal((await scan(page, TEA)).verdict, "order_complete");
}

before(async () => {
  const dir = tempDir("status");
  uiPort = await freePort();
  printer = new VirtualZplPrinter();
  await printer.listen();
  collector = new Collector();
  await collector.listen();
  station = new Station({
    dir,
    files: { "orders.json": JSON.stringify(ORDERS) },
    config: `[station]
id = "pack-09"
site = "test-dc"
state_dir = "state"

[ui]
listen = "127.0.0.1:${uiPort}"
locale = "en"

[orders]
file = "orders.json"

[[printer]]
name = "label"
type = "zpl-tcp"
address = "${printer.address}"
status_interval_s = 1
status_timeout_ms = 300
timeout_ms = 3000
roles = ["shipping-label"]

[sync]
url = "http://127.0.0.1:${collector.port}/events"
retry_base_ms = 50
retry_cap_ms = 300
`,
  });
  await station.start(uiPort);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`http://127.0.0.1:${uiPort}/`);
  await page.waitForFunction(() => window.packbench && window.packbench.state().conn === "online");
});

after(async () => {
  if (browser) await browser.close();
  if (station) {
    const end = await station.stop();
    fs.writeFileSync(path.join(OUT, "status-stationd.log"), station.output());
    assert.deepEqual(end, { code: 0, signal: null }, station.output());
  }
  if (printer && printer.server.listening) await printer.close();
  if (collector && collector.server.listening) await collector.close();
});

test("the printer answers ~HS and shows ready", async () => {
  await printerShows("ready", "ready");
  assert.equal(await page.getAttribute(PRINTER, "data-level"), "ok");
  assert.match(await text(PRINTER), /Printer · label/);
  assert.ok(printer.queries >= 1);
  // Nothing sent yet: the back office has not been heard from.
  assert.equal(await page.getAttribute("#st-network", "data-level"), "warn");
  assert.equal(await depth(), 0);
  await shot("01-ready");
});

test("an event reaches the back office: online, nothing waiting, the label printed", async () => {
  await pack("S-1");
  await page.waitForSelector('#st-network[data-online="true"][data-level="ok"]');
  await page.waitForSelector('#st-outbox[data-depth="0"][data-waiting="no"]');
  assert.match(await text("#st-network"), /online/);
  assert.ok(collector.events.some((e) => e.subject === "S-1" && /order\.packed/.test(e.type)));
  await printer.waitForJobs(1);
  assert.match(printer.jobs[0], /\^FDOrder S-1\^FS/);
  assert.doesNotMatch(printer.jobs[0], /~HS/);
  await shot("02-online");
});

test("paper out: a red chip in words, the label held, printed once when paper is back", async () => {
  printer.flags.paperOut = true;
  await printerShows("fault", "paper out");
  assert.equal(await page.getAttribute(PRINTER, "data-level"), "bad");
  const red = await page.$eval(PRINTER, (c) => getComputedStyle(c).backgroundColor);
  assert.equal(red, "rgb(92, 0, 16)");
  assert.equal(await page.getAttribute(PRINTER, "title"), "paper out");
  await shot("03-paper-out");

  // In Japanese too.
  await page.click("#locale");
  await printerShows("fault", "用紙切れ");
  assert.match(await text(PRINTER), /プリンター · label/);
  await shot("04-paper-out-ja");
  await page.click("#locale");
  await printerShows("fault", "paper out");

  await pack("S-2");
  let h = await health();
  assert.equal(h.prints_pending, 1);
  await printer.waitForQueries(2);
  assert.equal(printer.jobs.length, 1, "nothing goes to a printer without paper");
  h = await health();
  const label = h.devices.find((d) => d.name === "label");
  assert.deepEqual(label.conditions, ["paper_out"]);

  printer.flags.paperOut = false;
  await printer.waitForJobs(2);
  await printerShows("ready", "ready");
  assert.match(printer.jobs[1], /\^FDOrder S-2\^FS/);
  await printer.waitForQueries(2);
  assert.equal(printer.jobs.length, 2, "the held label printed exactly once");
  assert.equal((await health()).prints_pending, 0);
  await shot("05-paper-back");
});

test("a printer that stops answering is a fault, one switched off is offline, both come back", async () => {
  // ZPL II Programming Guide, ~HS: a Zebra out of media or with its head open may not answer.
  printer.silent = true;
  await printerShows("fault", "no answer");
  assert.equal(await page.getAttribute(PRINTER, "data-level"), "bad");
  assert.match(await page.getAttribute(PRINTER, "title"), /no answer to ~HS/);
  await shot("06-printer-silent");
  printer.silent = false;
  await printerShows("ready", "ready");

  const port = printer.port;
  await printer.close();
  await printerShows("offline", "offline");
  assert.equal(await page.getAttribute(PRINTER, "data-level"), "bad");
  assert.match(await page.getAttribute(PRINTER, "title"), /cannot connect/);
  await shot("07-printer-offline");
  await printer.listen(port);
  await printerShows("ready", "ready");
  await shot("08-printer-back");
});

test("the back office down: offline, the outbox depth counts up, then online with 0", async () => {
  collector.status = 503;
  await pack("S-3");
  await page.waitForSelector('#st-network[data-online="false"][data-level="bad"]');
  assert.match(await text("#st-network"), /offline/);
  await page.waitForSelector('#st-outbox[data-waiting="yes"]');
  const first = await depth();
  assert.ok(first >= 1, `depth ${first}`);
  assert.match(await text("#st-outbox"), new RegExp(`${first} event`));
  await shot("09-back-office-503");

  // Switched off altogether: still offline, and the next order's events wait too.
  await collector.close();
  await pack("S-4");
  await page.waitForFunction((n) => Number(document.querySelector("#st-outbox").dataset.depth) > n, first);
  assert.equal(await page.getAttribute("#st-network", "data-online"), "false");
  await shot("10-back-office-down");
  await printer.waitForJobs(4); // packing and printing never waited for the back office

  collector.status = 200;
  await collector.listen(collector.port);
  await page.waitForSelector('#st-network[data-online="true"][data-level="ok"]');
  await page.waitForSelector('#st-outbox[data-depth="0"][data-waiting="no"]');
  for (const order of ["S-3", "S-4"]) {
    assert.ok(collector.events.some((e) => e.subject === order), `${order} reached the back office`);
  }
  await shot("11-back-office-back");
  assert.deepEqual(pageErrors, []);
});
