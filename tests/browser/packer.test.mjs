// The packer UI in a real browser: Debian's chromium, headless, driven by playwright-core,
// against the real stationd (built binary, PACKBENCH_STATIOND) on free loopback ports with a
// file printer and its own state folder. Scans are typed into the page as a keyboard-wedge
// scanner types them. Every step saves a screenshot into PACKBENCH_BROWSER_OUTPUT (ctest: the
// test's binary folder, tests/browser/output/).
//
// Waits are on events (a verdict received, a selector showing, a port answering), never sleeps.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { once } from "node:events";

import {
  Station,
  freePort,
  launchChromium,
  scan,
  tempDir,
  verdictAfter,
  verdictCount,
  wedge,
} from "./station.mjs";

const OUT = process.env.PACKBENCH_BROWSER_OUTPUT || path.join(process.cwd(), "browser-output");
fs.mkdirSync(OUT, { recursive: true });
// This test's own screenshots only: the status bar test writes status-*.png beside them.
for (const f of fs.readdirSync(OUT)) if (/^(\d|layout-).*\.png$/.test(f)) fs.rmSync(path.join(OUT, f));

// A picture inline, as an order may carry one (the page must work with the network down).
const PICTURE =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#7cb342"/><circle cx="5" cy="5" r="3" fill="#fff"/></svg>',
  );

const LONG = "Extra-long product name that must never push anything else on the screen out of place";

const ORDERS = {
  orders: [
    {
      id: "DEMO-1001",
      customer: { name: "山田 花子", locale: "ja", first_order: true },
      lines: [
        { sku: "TEA-SENCHA-100", name: "Sencha green tea 100 g", qty: 2, barcodes: ["4901234567894"], image: PICTURE },
        { sku: "CUP-YUNOMI-BLU", name: "Yunomi cup, blue", qty: 1, barcodes: ["4909876543214"] },
      ],
    },
    {
      id: "DEMO-1002",
      customer: { name: "Alex Morgan", locale: "en" },
      lines: [
        { sku: "TEA-HOJI-200", name: "Hojicha roasted tea 200 g", qty: 1, barcodes: ["4901234500013"] },
        { sku: "WHISK-CHASEN", name: "Bamboo matcha whisk", qty: 1, barcodes: ["4909876500019"] },
      ],
    },
    {
      id: "DEMO-1003",
      customer: { name: "佐藤 健", locale: "ja" },
      lines: [
        { sku: "MATCHA-30", name: "Ceremonial matcha 30 g", qty: 3, barcodes: ["4901234500020"], lot_required: true, expiry_required: true },
        { sku: "KETTLE-TETSU", name: "Tetsubin kettle", qty: 1, barcodes: ["09506000134352"], serial_required: true },
      ],
    },
    {
      id: "FEED-1",
      lines: [{ sku: "TEA-SENCHA-100", name: "Sencha green tea 100 g", qty: 2, barcodes: ["4901234567894"] }],
    },
    {
      id: "DEMO-1004",
      lines: [{ sku: "TEA-SENCHA-100", name: "Sencha green tea 100 g", qty: 1, barcodes: ["4901234567894"] }],
    },
    {
      id: "BURST-1",
      lines: [
        { sku: "KETTLE-TETSU", name: "Tetsubin kettle", qty: 12, barcodes: ["09506000134352"], serial_required: true },
        { sku: "TEA-SENCHA-100", name: "Sencha green tea 100 g", qty: 1, barcodes: ["4901234567894"] },
      ],
    },
    ...["LAYOUT-1280", "LAYOUT-1920"].map((id) => ({
      id,
      customer: { name: "Customer with a rather long name, Esq." },
      lines: [
        { sku: "TEA-SENCHA-100", name: "Sencha green tea 100 g", qty: 2, barcodes: ["4901234567894"], image: PICTURE },
        { sku: "LONG-1", name: LONG, qty: 1, barcodes: ["4909876543214"] },
        ...Array.from({ length: 8 }, (_, i) => ({
          sku: `FILL-${i}`,
          name: `Filler item ${i}`,
          qty: 1,
          barcodes: [`FILL-${id}-${i}`],
        })),
      ],
    })),
  ],
};

// The thank-you campaign's pool, as the shop exported it.
const CODES = ["TEA-7K2M-0001", "TEA-7K2M-0002", "TEA-7K2M-0003", "TEA-7K2M-0004"];

let station;
let uiPort;
// The back office's order feed (docs/sync.md): cancellations pushed by a test, served from any
// cursor.
const FEED = { cancelled: [] };
let feedServer;
let printsDir;
let browser;
let page;
const pageErrors = [];

async function shot(name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
}

async function text(selector) {
  return (await page.textContent(selector)) ?? "";
}

before(async () => {
  const dir = tempDir("browser");
  printsDir = path.join(dir, "prints");
  uiPort = await freePort();
  const scannerPort = await freePort();
  const feedPort = await freePort();
  feedServer = http.createServer((req, res) => {
    const cursor = new URL(req.url, "http://feed").searchParams.get("cursor");
    const from = cursor ? Number(cursor.slice(1)) : 0;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ orders: [], cancelled: FEED.cancelled.slice(from), cursor: `c${FEED.cancelled.length}`, more: false }));
  });
  feedServer.listen(feedPort, "127.0.0.1");
  await once(feedServer, "listening");
  station = new Station({
    dir,
    files: { "orders.json": JSON.stringify(ORDERS) },
    config: `[station]
id = "pack-07"
site = "test-dc"
state_dir = "state"

[ui]
listen = "127.0.0.1:${uiPort}"
locale = "en"

[orders]
file = "orders.json"
feed_url = "http://127.0.0.1:${feedPort}/feed"
poll_interval_s = 1

[[scanner]]
name = "bench"
type = "tcp-listen"
address = "127.0.0.1:${scannerPort}"

[[printer]]
name = "label"
type = "file"
directory = "prints"
roles = ["shipping-label", "insert", "discount-card", "packing-slip"]

[pack]
reason_codes = ["short-pick", "damaged", "out-of-stock"]

# Codes made in the shop beforehand (stationctl codes import below): one per order, oldest
# first; under three left, the packer is told.
[[campaign]]
id = "thanks"
name = "Thank-you offer"
source = "pool"
low_water = 3
expiry_days = 30
shop = "shop.example.com"
redirect = "/collections/tea"
wording.en.offer = "15% off your next order"
wording.ja.offer = "次回のご注文が15%オフ"

[[pack.supervisor]]
id = "sv-test"
badge = "SV-TEST"
pin_sha256 = "03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4"   # 1234
`,
  });
  fs.writeFileSync(path.join(dir, "codes.csv"), `Code\n${CODES.join("\n")}\n`);
  assert.match(station.ctl("codes", "import", "--campaign", "thanks", path.join(dir, "codes.csv")), /4 added/);
  await station.start(uiPort);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  if (process.env.DEBUG_WS) {
    page.on("console", (m) => console.log("console", m.text()));
    page.on("websocket", (ws) => {
      ws.on("framereceived", (f) => console.log("<<", String(f.payload).slice(0, 120)));
      ws.on("framesent", (f) => console.log(">>", String(f.payload).slice(0, 120)));
      ws.on("close", () => console.log("WS CLOSED"));
    });
  }
  await page.goto(`http://127.0.0.1:${uiPort}/`);
  await page.waitForFunction(() => window.packbench && window.packbench.state().conn === "online");
});

after(async () => {
  if (browser) await browser.close();
  if (feedServer) feedServer.close();
  if (station) {
    const end = await station.stop();
    fs.writeFileSync(path.join(OUT, "stationd.log"), station.output());
    // A clean stop after all of it (under the sanitizers too: they would make it fail).
    assert.deepEqual(end, { code: 0, signal: null }, station.output());
  }
});

test("the page comes from the station: assets, status bar and the login screen", async () => {
  const res = await fetch(`http://127.0.0.1:${uiPort}/app.js`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^text\/javascript/);
  assert.ok(res.headers.get("etag"));
  const again = await fetch(`http://127.0.0.1:${uiPort}/app.js`, { headers: { "If-None-Match": res.headers.get("etag") } });
  assert.equal(again.status, 304);
  assert.match((await fetch(`http://127.0.0.1:${uiPort}/`)).headers.get("content-security-policy"), /connect-src 'self'/);

  assert.equal(await page.getAttribute("body", "data-screen"), "login");
  assert.match(await text("#login-instruction"), /Scan your badge/);
  assert.match(await text("#verdict-reason"), /Station pack-07/);
  await page.waitForSelector('#st-devices .chip[data-kind="printer"][data-state="ready"]');
  assert.match(await text("#st-station"), /pack-07/);
  assert.match(await text("#st-camera"), /none/);
  // No [sync] url: the back office is not set up and what it has not heard waits.
  assert.equal(await page.getAttribute("#st-network", "data-level"), "warn");
  assert.match(await text("#st-network"), /not set up/);
  assert.equal(await page.getAttribute("#st-outbox", "data-depth"), "0");
  assert.match(await text('#st-devices .chip[data-kind="scanner"]'), /bench.*ready/);
  // The pool of discount codes is full enough.
  assert.equal(await page.isVisible("#st-codes"), true);
  assert.equal(await page.getAttribute("#st-codes", "data-level"), "ok");
  assert.match(await text("#st-codes"), /Discount codes.*OK/);
  await shot("01-login");
});

test("a badge scan logs the packer in", async () => {
  const v = await scan(page, "PK-0042");
  assert.equal(v.verdict, "packer_logged_in");
  assert.equal(await page.getAttribute("body", "data-screen"), "idle");
  assert.equal(await page.getAttribute("body", "data-tone"), "accept");
  assert.match(await text("#verdict-title"), /Hello, 0042/);
  assert.match(await text("#st-packer"), /0042/);
  assert.match(await text("#idle-instruction"), /Scan an order/);
  await shot("02-idle");
});

test("an order opens with its lines, names and pictures", async () => {
  const v = await scan(page, "DEMO-1001");
  assert.equal(v.verdict, "order_opened");
  assert.equal(await page.getAttribute("body", "data-screen"), "order");
  assert.equal(await text("#progress-scanned"), "0");
  assert.equal(await text("#progress-expected"), "3");
  assert.match(await text("#verdict-reason"), /3 items to scan/);
  assert.match(await text("#customer"), /山田 花子/);
  assert.match(await text('.line[data-line="0"] .name'), /Sencha green tea 100 g/);
  assert.equal(await text('.line[data-line="0"] .count'), "0 / 2");
  assert.match(await text('.line[data-line="1"] .name'), /Yunomi cup, blue/);
  const src = await page.getAttribute('.line[data-line="0"] img.picture', "src");
  assert.ok(src.startsWith("data:image/svg+xml"));
  await page.waitForFunction(() => document.querySelector('.line[data-line="0"] img.picture').complete);
  await shot("03-order-open");
});

test("the right item is accepted in green with its count", async () => {
  const soundsBefore = await page.evaluate(() => window.packbench.sounds.length);
  const v = await scan(page, "4901234567894");
  assert.equal(v.verdict, "item_accepted");
  assert.equal(await page.getAttribute("body", "data-tone"), "accept");
  assert.equal(await text("#verdict-title"), "OK");
  assert.match(await text("#verdict-reason"), /Sencha green tea 100 g: 1 of 2/);
  assert.equal(await text('.line[data-line="0"] .count'), "1 / 2");
  assert.equal(await text("#progress-scanned"), "1");
  assert.deepEqual(await page.evaluate((n) => window.packbench.sounds.slice(n), soundsBefore), ["accept"]);
  await shot("04-item-accepted");
});

test("a wrong item is refused in red, saying which item and whose it is", async () => {
  const soundsBefore = await page.evaluate(() => window.packbench.sounds.length);
  const v = await scan(page, "4901234500013");
  assert.equal(v.verdict, "wrong_item");
  assert.equal(await page.getAttribute("body", "data-tone"), "reject");
  assert.equal(await text("#verdict-title"), "Wrong item");
  assert.match(await text("#verdict-reason"), /Hojicha roasted tea 200 g belongs to order DEMO-1002, not to DEMO-1001/);
  assert.equal(await text("#progress-scanned"), "1");
  assert.deepEqual(await page.evaluate((n) => window.packbench.sounds.slice(n), soundsBefore), ["reject"]);
  await shot("05-wrong-item");
});

test("an unknown code is told apart from a wrong item", async () => {
  const v = await scan(page, "2000000000015");
  assert.equal(v.verdict, "unknown_barcode");
  assert.equal(await text("#verdict-title"), "Unknown code");
  assert.match(await text("#verdict-reason"), /2000000000015 is no product of any order here/);
  await shot("06-unknown-code");
});

test("a surplus item is refused as an over-scan", async () => {
  assert.equal((await scan(page, "4901234567894")).verdict, "item_accepted");
  assert.equal(await text('.line[data-line="0"] .count'), "2 / 2");
  assert.equal(await page.getAttribute('.line[data-line="0"]', "class"), "line done last");
  const v = await scan(page, "4901234567894");
  assert.equal(v.verdict, "over_scan");
  assert.equal(await text("#verdict-title"), "Too many");
  assert.match(await text("#verdict-reason"), /DEMO-1001 needs 2 × Sencha green tea 100 g, all already scanned/);
  assert.equal(await text("#progress-scanned"), "2");
  await shot("07-over-scan");
});

test("the packer switches the screen to Japanese and back", async () => {
  await page.click("#locale");
  assert.equal(await page.getAttribute("html", "lang"), "ja");
  assert.equal(await text("#verdict-title"), "数量超過");
  assert.equal(await text("#verdict-reason"), "Sencha green tea 100 g は 2 点すべてスキャン済みです。この商品は取り出してください。");
  assert.match(await text("#st-devices"), /プリンター · label/);
  assert.match(await text("#act-undo"), /取消/);
  await shot("08-japanese");
  await page.click("#locale");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await text("#verdict-title"), "Too many");
  // The choice belongs to the packer: it is what this page shows them from now on.
  assert.equal(await page.evaluate(() => localStorage.getItem("packbench.locale.0042")), "en");
});

test("the last item completes the order: what was printed, and the discount code", async () => {
  const v = await scan(page, "4909876543214");
  assert.equal(v.verdict, "order_complete");
  assert.equal(await page.getAttribute("body", "data-screen"), "complete");
  assert.equal(await page.getAttribute("body", "data-tone"), "complete");
  assert.match(await text("#complete-summary"), /DEMO-1001: 3 items in 1 box/);
  // The label goes to the file printer; the screen follows the job until it is printed.
  await page.waitForSelector('#printed-list li[data-role="shipping-label"][data-state="printed"]');
  assert.match(await text("#printed-list"), /Shipping label.*✓/);
  assert.equal(await page.getAttribute('#printed-list li[data-role="shipping-label"] .state', "aria-label"), "printed");
  // With it, the insert, the discount card and the packing slip, all from the file printer.
  for (const role of ["insert", "discount-card", "packing-slip"]) {
    await page.waitForSelector(`#printed-list li[data-role="${role}"][data-state="printed"]`);
  }
  assert.match(await text("#printed-list"), /Discount card.*Thank-you insert.*Packing slip/);
  const files = fs.readdirSync(printsDir).filter((f) => f.includes("DEMO-1001"));
  assert.deepEqual(
    files.map((f) => f.replace(/^\d+-/, "")).sort(),
    ["discount-card-DEMO-1001.zpl", "insert-DEMO-1001.zpl", "packing-slip-DEMO-1001.zpl", "shipping-label-DEMO-1001.zpl"],
    `prints: ${fs.readdirSync(printsDir)}`,
  );
  // The code the station gave this order — the pool's oldest — big on the screen, and the
  // same code on the card that went into the parcel.
  await page.waitForSelector("#discount-code", { state: "visible" });
  assert.equal(await text("#discount-code"), CODES[0]);
  const card = fs.readFileSync(path.join(printsDir, files.find((f) => f.includes("discount-card"))), "latin1");
  assert.ok(card.includes(`^FD${CODES[0]}^FS`), "the card carries the code as text");
  assert.match(await text("#discount-note"), /15% off your next order/);
  assert.equal(await page.isVisible("#discount-pool"), false);
  // Three codes are left: not under the mark of three yet.
  await page.waitForSelector('#st-codes[data-level="ok"]');
  assert.match(await page.getAttribute("#st-codes", "title"), /Thank-you offer: 3/);
  // The order.packed, discount.issued and insert.printed events wait in the outbox (no [sync]
  // url): the status bar counts them.
  await page.waitForSelector('#st-outbox[data-depth="3"][data-waiting="yes"]');
  // In Japanese, the offer in Japanese.
  await page.click("#locale");
  assert.match(await text("#discount-note"), /次回のご注文が15%オフ/);
  await page.click("#locale");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await shot("10-complete-discount");
});

test("multi-box and undo: a box closes, its label prints, the next items go to the next box", async () => {
  assert.equal((await scan(page, "DEMO-1002")).verdict, "order_opened");
  assert.equal((await scan(page, "4901234500013")).verdict, "item_accepted");
  // The packer taps Undo: the item comes out of the box.
  let n = await verdictCount(page);
  await page.click("#act-undo");
  let v = await verdictAfter(page, n);
  assert.equal(v.verdict, "scan_undone");
  assert.match(await text("#verdict-reason"), /Hojicha roasted tea 200 g: take it out of the box/);
  assert.equal(await text('.line[data-line="0"] .count'), "0 / 1");
  assert.equal((await scan(page, "4901234500013")).verdict, "item_accepted");
  n = await verdictCount(page);
  await page.click("#act-box");
  v = await verdictAfter(page, n);
  assert.equal(v.verdict, "box_closed");
  assert.match(await text("#verdict-reason"), /Box 1: label printing. Next items go to box 2/);
  assert.equal(await text("#progress-box"), "Box 2");
  await shot("11-box-closed");
  assert.equal((await scan(page, "4909876500019")).verdict, "order_complete");
  assert.match(await text("#complete-summary"), /DEMO-1002: 2 items in 2 boxes/);
  await page.waitForFunction(
    () => document.querySelectorAll('#printed-list li[data-role="shipping-label"][data-state="printed"]').length === 2,
  );
  assert.match(await text("#printed-list"), /Shipping label 1\/2.*Shipping label 2\/2/);
  // The next code of the pool; two are left now, under the mark of three: the packer is told,
  // in the offer's place and in the status bar, and a discount.pool.low event goes out.
  await page.waitForSelector("#discount-code", { state: "visible" });
  assert.equal(await text("#discount-code"), CODES[1]);
  assert.equal(await page.isVisible("#discount-pool"), true);
  assert.equal(await page.isVisible("#discount-note"), false);
  assert.match(await text("#discount-pool"), /Only 2 codes left: tell your supervisor/);
  await page.waitForSelector('#st-codes[data-level="warn"][data-low="thanks"]');
  assert.match(await text("#st-codes"), /Discount codes.*2 left/);
  // Every job and the warning are in view, none cut off by its panel (1280×800).
  for (const role of ["shipping-label", "discount-card", "insert", "packing-slip"]) {
    await page.waitForSelector(`#printed-list li[data-role="${role}"][data-state="printed"]`);
  }
  await shot("12-complete-two-boxes");
  const inside = async (sel, panel) => {
    const a = await page.locator(sel).last().boundingBox();
    const b = await page.locator(panel).boundingBox();
    const ok = a.y >= b.y && a.y + a.height <= b.y + b.height + 0.5 && a.x + a.width <= b.x + b.width + 0.5;
    assert.ok(ok, `${sel} ${JSON.stringify(a)} is cut off by ${panel} ${JSON.stringify(b)}`);
  };
  await inside("#printed-list li", "#printed");
  await inside("#discount-pool", "#discount");
  // Whole, not cut short with an ellipsis.
  assert.ok(await page.$eval("#discount-pool", (e) => e.scrollWidth <= e.clientWidth), "the pool warning is cut short");
  assert.equal(await page.getAttribute("#discount-pool", "title"), "Thank-you offer");
  await page.click("#locale");
  assert.match(await text("#discount-pool"), /コードは残り 2 件です/);
  assert.match(await text("#st-codes"), /割引コード.*残り 2/);
  await page.click("#locale");
});

test("exceptions: a lot and an expiry prompt, then a short pick with the supervisor's PIN and a reason", async () => {
  assert.equal((await scan(page, "DEMO-1003")).verdict, "order_opened");
  let v = await scan(page, "4901234500020");
  assert.equal(v.verdict, "lot_needed");
  assert.equal(await page.getAttribute("body", "data-tone"), "prompt");
  assert.equal(await page.getAttribute("#prompt", "data-kind"), "lot");
  assert.match(await text("#prompt-text"), /Scan the lot of Ceremonial matcha 30 g/);
  await shot("13-lot-prompt");
  v = await scan(page, "LOT-2026-A1");
  assert.equal(v.verdict, "expiry_needed");
  assert.equal(await page.getAttribute("body", "data-tone"), "prompt");
  assert.equal(await page.getAttribute("#prompt", "data-kind"), "expiry");
  assert.match(await text("#prompt-text"), /Scan the expiry date of Ceremonial matcha 30 g/);
  assert.match(await text("#verdict-title"), /Expiry date needed/);
  assert.match(await text("#lines"), /LOT · EXP/);
  v = await scan(page, "351231");
  assert.equal(v.verdict, "item_accepted");
  assert.equal(await page.getAttribute("#prompt", "data-kind"), "none");

  let n = await verdictCount(page);
  await page.click("#act-short");
  v = await verdictAfter(page, n);
  assert.equal(v.verdict, "supervisor_needed");
  await page.waitForSelector("#pinpad", { state: "visible" });
  for (const k of ["1", "2", "3", "4"]) await page.click(`#pinpad-keys button[data-key="${k}"]`);
  assert.equal(await text("#pinpad-value"), "••••");
  await shot("14-supervisor-pin");
  n = await verdictCount(page);
  await page.click('#pinpad-keys button[data-key="ok"]');
  v = await verdictAfter(page, n);
  assert.equal(v.verdict, "reason_needed");
  assert.equal(v.scan, "PIN-****");
  await page.waitForSelector("#pinpad", { state: "hidden" });
  await page.waitForSelector('#prompt-actions button[data-reason="damaged"]');
  await shot("15-reason");
  n = await verdictCount(page);
  await page.click('#prompt-actions button[data-reason="damaged"]');
  v = await verdictAfter(page, n);
  assert.equal(v.verdict, "order_closed_short");
  assert.equal(await page.getAttribute("body", "data-screen"), "complete");
  assert.match(await text("#complete-summary"), /DEMO-1003: 1 of 4 items, closed short \(damaged\)/);
  await shot("16-closed-short");
});

test("cancel takes a second tap, then the order is given up at this bench", async () => {
  assert.equal((await scan(page, "DEMO-1004")).verdict, "order_opened");
  assert.equal((await scan(page, "4901234567894")).verdict, "order_complete");
  // Reopen it with the supervisor's badge, then cancel the reopened pack.
  let n = await verdictCount(page);
  await page.click("#act-reopen");
  assert.equal((await verdictAfter(page, n)).verdict, "supervisor_needed");
  assert.equal((await scan(page, "SV-TEST")).verdict, "reopen_authorised");
  assert.equal((await scan(page, "DEMO-1004")).verdict, "order_reopened");
  const before = await verdictCount(page);
  await page.click("#act-cancel");
  assert.equal(await text("#act-cancel"), "Tap again");
  assert.equal(await verdictCount(page), before);
  await page.click("#act-cancel");
  const v = await verdictAfter(page, before);
  assert.equal(v.verdict, "pack_cancelled");
  assert.equal(await page.getAttribute("body", "data-screen"), "idle");
  await shot("17-cancelled");
});

test("the back office cancels the order being packed: a banner until the pack ends", async () => {
  assert.equal((await scan(page, "FEED-1")).verdict, "order_opened");
  assert.equal((await scan(page, "4901234567894")).verdict, "item_accepted");
  assert.equal(await page.isVisible("#notice"), false);
  FEED.cancelled.push({ id: "FEED-1", version: 2, reason: "customer request" });
  await page.waitForSelector("#notice", { state: "visible" });
  assert.equal(await page.getAttribute("#notice", "data-change"), "cancel");
  assert.equal(await page.getAttribute("#notice", "data-order"), "FEED-1");
  assert.equal(await text("#notice-title"), "Cancelled in the back office");
  assert.equal(await text("#notice-text"), "This order was cancelled in the back office — ask your supervisor.");
  assert.equal(await text("#notice-reason"), "Reason: customer request");
  // The order is still on the bench, as it was: the packer is told, not overruled.
  assert.equal(await page.getAttribute("body", "data-screen"), "order");
  await shot("17a-back-office-cancelled");
  await page.click("#locale");
  assert.equal(await text("#notice-text"), "この注文は本部でキャンセルされました — 責任者に確認してください。");
  assert.equal(await text("#notice-reason"), "理由：customer request");
  await shot("17b-back-office-cancelled-ja");
  await page.click("#locale");
  // The supervisor has the pack cancelled: the cancellation applies and the banner goes.
  const before = await verdictCount(page);
  await page.click("#act-cancel");
  await page.click("#act-cancel");
  assert.equal((await verdictAfter(page, before)).verdict, "pack_cancelled");
  await page.waitForSelector("#notice", { state: "hidden" });
  assert.equal((await scan(page, "FEED-1")).verdict, "order_cancelled");
});

test("a burst of keystrokes is never lost or split", async () => {
  assert.equal((await scan(page, "BURST-1")).verdict, "order_opened");
  // Ten kettles, each with its serial in a GS1 element string, as one continuous stream of key
  // events sent without waiting for any of them: far faster than a scanner types.
  const scans = Array.from({ length: 10 }, (_, i) => `(01)09506000134352(21)SN-${String(i).padStart(2, "0")}-QWERTYUIOPASDFGHJKL`);
  const cdp = await page.context().newCDPSession(page);
  const before = await verdictCount(page);
  const sent = [];
  for (const s of scans) {
    for (const ch of s) {
      sent.push(cdp.send("Input.dispatchKeyEvent", { type: "keyDown", key: ch, text: ch, unmodifiedText: ch }));
      sent.push(cdp.send("Input.dispatchKeyEvent", { type: "keyUp", key: ch }));
    }
    sent.push(cdp.send("Input.dispatchKeyEvent", { type: "keyDown", key: "Enter", code: "Enter", windowsVirtualKeyCode: 13, text: "\r" }));
    sent.push(cdp.send("Input.dispatchKeyEvent", { type: "keyUp", key: "Enter", code: "Enter", windowsVirtualKeyCode: 13 }));
  }
  await Promise.all(sent);
  await page.waitForFunction((n) => window.packbench.state().verdicts >= n, before + scans.length);
  // A verdict is counted when it arrives and its latency recorded once it is painted: wait for
  // the paint of the last one before reading the latencies.
  await page.waitForFunction((s) => window.packbench.latencies.at(-1)?.scan === s, scans.at(-1));
  const got = await page.evaluate((n) => window.packbench.latencies.slice(-n).map((l) => [l.scan, l.verdict]), scans.length);
  assert.deepEqual(got, scans.map((s) => [s, "item_accepted"]));
  assert.equal(await text('.line[data-line="0"] .count'), "10 / 12");
  assert.equal(await text("#progress-scanned"), "10");

  // And through the ordinary keyboard path: a serial prompted for, typed in one go with its item.
  await wedge(page, "09506000134352");
  await wedge(page, "SN-TYPED-AFTER-ITEM");
  await page.waitForFunction((n) => window.packbench.state().verdicts >= n && window.packbench.state().pending === 0, before + scans.length + 2);
  await page.waitForFunction(() => window.packbench.latencies.at(-1)?.scan === "SN-TYPED-AFTER-ITEM");
  const last = await page.evaluate(() => window.packbench.latencies.slice(-2).map((l) => [l.scan, l.verdict]));
  assert.deepEqual(last, [
    ["09506000134352", "serial_needed"],
    ["SN-TYPED-AFTER-ITEM", "item_accepted"],
  ]);
  await shot("18-burst");
  assert.equal((await scan(page, "CMD-CANCEL")).verdict, "pack_cancelled");
});

test("another origin's page cannot drive the bench", async () => {
  // Over raw HTTP: the upgrade is refused with 403.
  const refused = await new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port: uiPort,
      path: "/ws",
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        Origin: "http://evil.example",
      },
    });
    req.on("response", (res) => resolve(res.statusCode));
    req.on("upgrade", () => resolve(101));
    req.on("error", reject);
    req.end();
  });
  assert.equal(refused, 403);

  // In the browser: a page served from another origin tries to open the station's WebSocket.
  const other = http.createServer((_, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<!doctype html><title>elsewhere</title>");
  });
  other.listen(0, "127.0.0.1");
  await once(other, "listening");
  const foreign = await browser.newPage();
  try {
    await foreign.goto(`http://127.0.0.1:${other.address().port}/`);
    const outcome = await foreign.evaluate(
      (port) =>
        new Promise((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
          ws.onopen = () => resolve("open");
          ws.onclose = () => resolve("refused");
        }),
      uiPort,
    );
    assert.equal(outcome, "refused");
  } finally {
    await foreign.close();
    other.close();
  }
});

test("the page shows it is reconnecting when the station dies, and recovers by itself", async () => {
  assert.equal((await scan(page, "DEMO-1002")).verdict, "order_already_packed");
  assert.match(await text("#verdict-reason"), /Order DEMO-1002 was packed before/);
  // An order in progress, so that the restarted station has something to resume.
  const layoutOrder = "LAYOUT-1280";
  assert.equal((await scan(page, layoutOrder)).verdict, "order_opened");
  assert.equal((await scan(page, "4901234567894")).verdict, "item_accepted");

  await station.stop("SIGKILL");
  await page.waitForSelector('#conn[data-state="reconnecting"]', { state: "visible" });
  assert.match(await text("#conn-text"), /reconnecting/);
  // Scanned while the station is away: held, in order, and sent when it is back.
  await wedge(page, "4901234567894");
  await page.waitForSelector('#scan[data-queued="1"]');
  assert.match(await text("#scan-hint"), /1 scan waiting for the station/);
  await shot("19-reconnecting");

  const n = await verdictCount(page);
  await station.start(uiPort);
  await page.waitForFunction(() => window.packbench.state().conn === "online");
  const v = await verdictAfter(page, n);
  assert.equal(v.verdict, "item_accepted");
  assert.equal(v.order, layoutOrder);
  assert.equal(await text('.line[data-line="0"] .count'), "2 / 2");
  assert.match(await text("#st-packer"), /0042/);
  await shot("20-reconnected");
});

// Boxes that must not move between screens and verdicts.
const FIXED = [
  "#statusbar",
  "#main",
  "#verdict",
  "#verdict-title",
  "#verdict-reason",
  "#verdict-detail",
  "#progress",
  "#prompt",
  "#body",
  "#scanbar",
  "#scan",
  "#actions",
  "#act-undo",
  "#act-box",
  "#act-short",
  "#act-cancel",
  "#act-reopen",
  "#st-network",
  "#st-outbox",
  "#st-devices",
  "#st-camera",
  "#st-station",
  "#st-packer",
  "#locale",
];

async function boxes(p) {
  return p.evaluate((selectors) => {
    const out = {};
    for (const s of selectors) {
      const r = document.querySelector(s).getBoundingClientRect();
      out[s] = [r.x, r.y, r.width, r.height].map((v) => Math.round(v * 10) / 10);
    }
    const doc = document.documentElement;
    out.overflow = [doc.scrollWidth > innerWidth, doc.scrollHeight > innerHeight];
    return out;
  }, FIXED);
}

for (const [width, height] of [
  [1280, 800],
  [1920, 1080],
]) {
  test(`at ${width}×${height} nothing moves between screens and verdicts`, async () => {
    const p = await browser.newPage({ viewport: { width, height } });
    p.on("pageerror", (e) => pageErrors.push(e.message));
    await p.addInitScript(() => {
      window.__shifts = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          const name = (n) =>
            !n ? "?" : n.id ? `#${n.id}` : n.className ? `${n.nodeName}.${n.className}` : `${n.nodeName} in ${name(n.parentElement)}`;
          window.__shifts.push({
            value: e.value,
            sources: (e.sources || []).map((s) => ({ node: name(s.node), from: s.previousRect, to: s.currentRect })),
          });
        }
      }).observe({ type: "layout-shift", buffered: true });
    });
    try {
      await p.goto(`http://127.0.0.1:${uiPort}/`);
      await p.waitForFunction(() => window.packbench.state().conn === "online");
      await p.waitForSelector('#st-devices .chip[data-kind="printer"]');
      await p.evaluate(() => document.fonts.ready.then(() => true));
      const order = `LAYOUT-${width}`;
      const steps = [];
      const record = async (name) => {
        steps.push([name, await boxes(p)]);
        await p.screenshot({ path: path.join(OUT, `layout-${width}x${height}-${name}.png`) });
      };
      // Whatever this page finds (the previous test left an order open), start from logged out.
      let s = await p.evaluate(() => window.packbench.state());
      if (s.pack.order) {
        assert.equal((await scan(p, "CMD-CANCEL")).verdict, "pack_cancelled");
      }
      s = await p.evaluate(() => window.packbench.state());
      if (s.pack.packer) assert.equal((await scan(p, `PK-${s.pack.packer}`)).verdict, "packer_logged_out");
      assert.equal(await p.getAttribute("body", "data-screen"), "login");
      await record("login");
      assert.equal((await scan(p, "PK-0042")).verdict, "packer_logged_in");
      await record("idle");
      assert.equal((await scan(p, "NO-SUCH-ORDER")).verdict, "order_not_found");
      await record("idle-rejected");
      assert.equal((await scan(p, order)).verdict, "order_opened");
      await record("order");
      assert.equal((await scan(p, "4909876543214")).verdict, "item_accepted");
      await record("accepted-long-name");
      assert.equal((await scan(p, "4901234500013")).verdict, "wrong_item");
      await record("wrong-item");
      assert.equal((await scan(p, "QTY-2")).verdict, "quantity_set");
      await record("prompt");
      assert.equal((await scan(p, "4901234567894")).verdict, "item_accepted");
      await p.click("#locale");
      await record("japanese");
      await p.click("#locale");
      for (let i = 0; i < 8; ++i) await scan(p, `FILL-${order}-${i}`);
      assert.equal(await p.getAttribute("body", "data-screen"), "complete");
      await p.waitForSelector('#printed-list li[data-state="printed"]');
      await record("complete");

      const [firstName, first] = steps[0];
      assert.deepEqual(first.overflow, [false, false], "the page scrolls at login");
      for (const [name, b] of steps.slice(1)) {
        assert.deepEqual(b.overflow, [false, false], `the page scrolls at ${name}`);
        for (const sel of FIXED) {
          assert.deepEqual(b[sel], first[sel], `${sel} moved between ${firstName} and ${name}`);
        }
      }
      const shifts = await p.evaluate(() => window.__shifts);
      const total = shifts.reduce((a, e) => a + e.value, 0);
      assert.equal(total, 0, `layout shifts: ${JSON.stringify(shifts)}`);
      // Large type: the verdict's title is at least 60 px high on the smaller screen.
      const titleHeight = first["#verdict-title"][3];
      assert.ok(titleHeight >= 60, `verdict title ${titleHeight}px`);
    } finally {
      await p.close();
    }
  });
}

test("no script error on any page", () => {
  assert.deepEqual(pageErrors, []);
});
