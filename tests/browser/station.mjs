// Shared by the browser test and the UI benchmark: the real stationd as a child process on free
// loopback ports with its own state folder, and Debian's chromium driven by playwright-core.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import os from "node:os";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export function loadPlaywright() {
  try {
    return require("playwright-core");
  } catch (e) {
    throw new Error(
      `playwright-core is not installed in tests/browser/node_modules (${e.message}); ` +
        "run tools/dev setup (it runs npm ci there)",
    );
  }
}

export function stationdPath() {
  const p = process.env.PACKBENCH_STATIOND;
  if (!p || !fs.existsSync(p)) {
    throw new Error(`PACKBENCH_STATIOND must name the built stationd (got '${p ?? ""}')`);
  }
  return p;
}

export function stationctlPath() {
  const p = process.env.PACKBENCH_STATIONCTL;
  if (!p || !fs.existsSync(p)) {
    throw new Error(`PACKBENCH_STATIONCTL must name the built stationctl (got '${p ?? ""}')`);
  }
  return p;
}

export function chromiumPath() {
  const p = process.env.PACKBENCH_CHROMIUM || "/usr/bin/chromium";
  if (!fs.existsSync(p)) {
    throw new Error(`no chromium at ${p}: tools/dev setup installs Debian's chromium`);
  }
  return p;
}

// A loopback port that was free a moment ago.
export async function freePort() {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

export function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `packbench-${name}-`));
}

// Polls `probe` until it returns something truthy: for a port coming up, nothing else.
export async function waitFor(probe, what, timeoutMs = 30000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export class Station {
  // `config` is the TOML text; `files` are written beside it (orders.json, ...).
  constructor({ dir, config, files = {} }) {
    this.dir = dir;
    this.configPath = path.join(dir, "station.toml");
    fs.writeFileSync(this.configPath, config);
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    this.runs = 0;
    this.proc = null;
  }

  get log() {
    return path.join(this.dir, `stationd-${this.runs}.log`);
  }

  async start(uiPort) {
    this.runs += 1;
    this.uiPort = uiPort;
    const out = fs.openSync(this.log, "w");
    this.proc = spawn(stationdPath(), ["--config", this.configPath], {
      cwd: this.dir,
      stdio: ["ignore", out, out],
      env: { ...process.env, PACKBENCH_STATE_DIR: path.join(this.dir, "state") },
    });
    fs.closeSync(out);
    let exited = null;
    this.proc.once("exit", (code, signal) => (exited = { code, signal }));
    await waitFor(async () => {
      if (exited) {
        throw new Error(`stationd exited (${JSON.stringify(exited)}):\n${fs.readFileSync(this.log, "utf8")}`);
      }
      try {
        const r = await fetch(`http://127.0.0.1:${uiPort}/healthz`);
        return r.ok;
      } catch {
        return false;
      }
    }, "stationd to answer /healthz");
  }

  // stationctl on this station's configuration and store, as IT runs it: its output.
  ctl(...args) {
    return execFileSync(stationctlPath(), [...args, "--config", this.configPath], {
      cwd: this.dir,
      env: { ...process.env, PACKBENCH_STATE_DIR: path.join(this.dir, "state") },
      encoding: "utf8",
    });
  }

  // Stops the station and returns how it ended: {code, signal}.
  async stop(signal = "SIGTERM") {
    if (!this.proc) return null;
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exit = once(this.proc, "exit");
      this.proc.kill(signal);
      await exit;
    }
    return { code: this.proc.exitCode, signal: this.proc.signalCode };
  }

  output() {
    try {
      return fs.readFileSync(this.log, "utf8");
    } catch {
      return "";
    }
  }
}

export async function launchChromium() {
  const { chromium } = loadPlaywright();
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // The verdict sounds play without a click first, as on the kiosk.
    args: [
      "--autoplay-policy=no-user-gesture-required",
      "--disable-dev-shm-usage",
      ...(process.env.PACKBENCH_CHROMIUM_ARGS || "").split(" ").filter(Boolean),
    ],
  });
}

// A wedge scanner: the characters as fast as the browser takes them, then Enter.
export async function wedge(page, text) {
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
}

// Waits for the verdicts of the page's own scans: all answered, and more than `after` verdicts
// received in all (verdictCount before the scans). Returns the last verdict.
export async function verdictAfter(page, after, timeout = 15000) {
  try {
    await page.waitForFunction(
      (n) => {
        const s = window.packbench.state();
        return s.pending === 0 && s.verdicts > n;
      },
      after,
      { timeout },
    );
  } catch (e) {
    const state = await page.evaluate(() => window.packbench.state()).catch(() => null);
    throw new Error(`no verdict after ${after}: ${e.message}\npage state: ${JSON.stringify(state)}`);
  }
  return page.evaluate(() => window.packbench.state().last);
}

export async function verdictCount(page) {
  return page.evaluate(() => window.packbench.state().verdicts);
}

// Scans like a wedge scanner and returns the verdict.
export async function scan(page, text) {
  const before = await verdictCount(page);
  await wedge(page, text);
  return verdictAfter(page, before);
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank];
}
