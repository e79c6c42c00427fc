// Packbench packer UI: one page, no framework. It talks to the station over one WebSocket
// (/ws; the messages are in docs/ui.md), paints what the station decided, and turns what a
// keyboard-wedge scanner types into scans.
//
// A scan is whatever arrives between two terminators (Enter or Tab), however fast the keys
// come: nothing here splits or drops keys by timing. Keys are read at the window, on a field
// that is not editable, so no input method composes them and no button takes an Enter.

import { STRINGS } from "/strings.js";

const $ = (id) => document.getElementById(id);

const PROMPTS = new Set([
  "quantity_set",
  "serial_needed",
  "lot_needed",
  "expiry_needed",
  "supervisor_needed",
  "reason_needed",
  "reopen_authorised",
]);
const COMPLETIONS = new Set(["order_complete", "order_closed_short"]);
const MAX_QUEUED = 50;

const S = {
  ws: null,
  conn: "connecting", // connecting | online | reconnecting
  attempts: 0,
  lastHeard: 0,
  hello: null,
  bench: null,
  stationLocale: "en",
  locale: "en",
  pack: null, // the pack session's state (snapshot)
  order: null, // the open order's details: customer, names, pictures
  status: null,
  last: null, // the last verdict
  notices: [], // changes the back office made to orders on the bench, held until the pack ends
  verdictLines: [], // the lines the last verdict speaks of (kept after the order closed)
  completion: null,
  buffer: "",
  pin: "",
  pageId: Math.random().toString(36).slice(2, 8),
  refs: 0,
  pending: new Map(), // ref -> {data, t0, sent}
  queue: [], // scans typed while the station was not reachable, in order
  unanswered: [],
  lastSent: "",
  focused: true,
  cancelArmed: 0,
  verdicts: 0, // verdicts received since the page loaded
  latencies: [],
  sounds: [],
  linesKey: "",
};

const t = () => STRINGS[S.locale] || STRINGS.en;

// --- the connection ---------------------------------------------------------------------------

function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  S.ws = ws;
  ws.onmessage = (ev) => {
    if (S.ws !== ws) return;
    S.lastHeard = performance.now();
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      return;
    }
    receive(m);
  };
  ws.onclose = () => {
    if (S.ws === ws) lost();
  };
}

function lost() {
  S.ws = null;
  // A scan that was sent but not answered may or may not have counted: the packer must look.
  for (const [ref, p] of S.pending) {
    if (p.sent) {
      S.unanswered.push(p.data);
      S.pending.delete(ref);
    }
  }
  S.conn = "reconnecting";
  S.attempts += 1;
  render();
  setTimeout(connect, Math.min(250 * 2 ** Math.min(S.attempts - 1, 3), 2000));
}

// A station that stops answering (not only one that closes) is noticed within seconds.
setInterval(() => {
  const ws = S.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN || S.conn !== "online") return;
  if (performance.now() - S.lastHeard > 12000) {
    ws.onclose = null;
    ws.close();
    lost();
    return;
  }
  ws.send('{"type":"ping"}');
}, 4000);

function receive(m) {
  switch (m.type) {
    case "hello":
      S.hello = m;
      S.bench = m.bench;
      S.stationLocale = m.locale;
      S.pack = m.pack;
      S.last = m.last;
      S.verdictLines = (m.pack && m.pack.lines) || (m.last && m.last.pack && m.last.pack.lines) || [];
      S.completion = m.last && m.last.completion ? m.last.completion : null;
      S.notices = m.notices || [];
      S.conn = "online";
      S.attempts = 0;
      S.locale = storedLocale(S.pack && S.pack.packer);
      flushQueue();
      break;
    case "order":
      S.order = m.order;
      break;
    case "status":
      S.status = m;
      break;
    case "verdict":
      verdict(m);
      return;
    case "notices": {
      const before = noticeFor(S.notices);
      S.notices = m.notices || [];
      const now = noticeFor(S.notices);
      // A new change on the order in hand sounds like a question: the packer must look up.
      if (now && (!before || before.change !== now.change || before.version !== now.version)) play("prompt");
      break;
    }
    case "prints":
      if (S.completion && S.completion.order === m.order) S.completion.prints = m.prints;
      break;
    case "error":
      if (m.ref && S.pending.has(m.ref)) {
        S.pending.delete(m.ref);
        S.unanswered.push(m.message);
      }
      break;
    default:
      return;
  }
  render();
}

function verdict(m) {
  const mine = m.ref ? S.pending.get(m.ref) : undefined;
  if (mine) S.pending.delete(m.ref);
  const before = S.pack;
  S.verdictLines = (m.pack && m.pack.lines) || (before && before.lines) || S.verdictLines;
  S.pack = m.pack;
  S.last = m;
  S.verdicts += 1;
  S.unanswered = [];
  if (m.completion) S.completion = m.completion;
  const packerBefore = before ? before.packer : null;
  if ((m.pack && m.pack.packer) !== packerBefore) S.locale = storedLocale(m.pack && m.pack.packer);
  play(COMPLETIONS.has(m.verdict) ? "complete" : !m.accepted ? "reject" : PROMPTS.has(m.verdict) ? "prompt" : "accept");
  render();
  if (mine) measure(mine, m);
}

// From the terminator's keydown to the frame that shows the verdict: the frame's callback runs
// before it is painted, and a message posted from there runs once it has been.
function measure(p, m) {
  const arrived = S.lastHeard;
  const received = performance.now();
  requestAnimationFrame(() => {
    const frame = performance.now();
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      S.latencies.push({ ref: m.ref, verdict: m.verdict, scan: m.scan, station: m.station_ms, t0: p.t0, sent: p.sentAt, arrived, received, frame, painted: performance.now() });
      if (S.latencies.length > 5000) S.latencies.shift();
    };
    channel.port2.postMessage(0);
  });
}

// --- scans ------------------------------------------------------------------------------------

function sendScan(data, t0 = performance.now()) {
  if (!data) return;
  const ref = `${S.pageId}-${++S.refs}`;
  const p = { data, t0, sent: false };
  S.pending.set(ref, p);
  S.lastSent = data;
  if (S.ws && S.ws.readyState === WebSocket.OPEN && S.conn === "online") {
    S.ws.send(JSON.stringify({ type: "scan", data, ref }));
    p.sent = true;
    p.sentAt = performance.now();
  } else {
    if (S.queue.length >= MAX_QUEUED) {
      const dropped = S.queue.shift();
      S.pending.delete(dropped);
    }
    S.queue.push(ref);
  }
  paintScanField();
}

function flushQueue() {
  while (S.queue.length && S.ws && S.ws.readyState === WebSocket.OPEN) {
    const ref = S.queue.shift();
    const p = S.pending.get(ref);
    if (!p) continue;
    S.ws.send(JSON.stringify({ type: "scan", data: p.data, ref }));
    p.sent = true;
  }
}

function command(cmd) {
  if (S.bench) sendScan(S.bench.command_prefix + cmd);
}

function onKey(e) {
  wakeAudio();
  if (e.isComposing || e.key === "Process" || e.keyCode === 229) return;
  if (e.key === "Enter" || e.key === "Tab") {
    e.preventDefault();
    const data = S.buffer;
    S.buffer = "";
    if (data) sendScan(data, e.timeStamp);
    return;
  }
  if (e.key === "Backspace") {
    e.preventDefault();
    S.buffer = S.buffer.slice(0, -1);
    paintScanField();
    return;
  }
  if (e.key === "Escape") {
    e.preventDefault();
    S.buffer = "";
    paintScanField();
    return;
  }
  // Wedge scanners send FNC1 (GS, ASCII 29) as Ctrl+].
  if (e.ctrlKey && (e.key === "]" || e.code === "BracketRight")) {
    e.preventDefault();
    S.buffer += "\x1d";
    paintScanField();
    return;
  }
  if (e.ctrlKey || e.metaKey || (e.altKey && !e.getModifierState("AltGraph"))) return;
  if ([...e.key].length === 1) {
    e.preventDefault();
    S.buffer += e.key;
    paintScanField();
  }
}

function onPaste(e) {
  e.preventDefault();
  const text = (e.clipboardData && e.clipboardData.getData("text")) || "";
  const lines = (S.buffer + text).split(/\r\n|\r|\n/);
  S.buffer = lines.pop();
  for (const line of lines) if (line) sendScan(line);
  paintScanField();
}

// The field echoes what is typed once the keys pause, not on every key: a frame requested during
// a scanner's burst would still be pending when the verdict arrives, and Chromium holds network
// tasks back after keyboard input until that frame is out (a frame's worth of latency, measured
// by tools/dev bench ui). A scanner's keys come a few milliseconds apart; a person's do not.
let scanFieldTimer = 0;
function paintScanField() {
  clearTimeout(scanFieldTimer);
  scanFieldTimer = setTimeout(renderScanField, 80);
}

function masked(text) {
  const prefix = S.bench ? S.bench.pin_prefix : "PIN-";
  const i = text.toUpperCase().indexOf(prefix.toUpperCase());
  const shown = i < 0 ? text : text.slice(0, i + prefix.length) + "•".repeat(text.length - i - prefix.length);
  return shown.replace(/\x1d/g, "⟨GS⟩");
}

// --- sound: Web Audio oscillators, no files ---------------------------------------------------

let audio = null;
function wakeAudio() {
  if (!audio) {
    try {
      audio = new AudioContext();
    } catch {
      return null;
    }
  }
  if (audio.state === "suspended") audio.resume().catch(() => {});
  return audio;
}

function beep(ac, type, freq, start, length, gain) {
  const osc = ac.createOscillator();
  const amp = ac.createGain();
  osc.type = type;
  osc.frequency.value = freq;
  amp.gain.setValueAtTime(0, start);
  amp.gain.linearRampToValueAtTime(gain, start + 0.008);
  amp.gain.setValueAtTime(gain, start + length - 0.02);
  amp.gain.linearRampToValueAtTime(0, start + length);
  osc.connect(amp).connect(ac.destination);
  osc.start(start);
  osc.stop(start + length + 0.02);
}

function play(kind) {
  S.sounds.push(kind);
  if (S.sounds.length > 200) S.sounds.shift();
  const ac = wakeAudio();
  if (!ac) return;
  const at = ac.currentTime + 0.005;
  if (kind === "accept") {
    // a short rising chirp
    beep(ac, "sine", 1046, at, 0.07, 0.35);
    beep(ac, "sine", 1568, at + 0.075, 0.09, 0.35);
  } else if (kind === "reject") {
    // a low, long, rough buzz: impossible to take for an accept
    beep(ac, "square", 196, at, 0.5, 0.22);
    beep(ac, "square", 185, at, 0.5, 0.22);
  } else if (kind === "prompt") {
    beep(ac, "triangle", 784, at, 0.12, 0.4);
    beep(ac, "triangle", 784, at + 0.2, 0.12, 0.4);
  } else {
    beep(ac, "sine", 784, at, 0.1, 0.3);
    beep(ac, "sine", 1046, at + 0.11, 0.1, 0.3);
    beep(ac, "sine", 1318, at + 0.22, 0.22, 0.3);
  }
}

// --- language ---------------------------------------------------------------------------------

function storedLocale(packer) {
  let chosen = null;
  try {
    chosen = localStorage.getItem(`packbench.locale.${packer || ""}`);
  } catch {}
  return chosen && STRINGS[chosen] ? chosen : S.stationLocale in STRINGS ? S.stationLocale : "en";
}

function switchLocale() {
  const locales = (S.hello && S.hello.locales) || Object.keys(STRINGS);
  const next = locales[(locales.indexOf(S.locale) + 1) % locales.length];
  S.locale = next;
  try {
    localStorage.setItem(`packbench.locale.${(S.pack && S.pack.packer) || ""}`, next);
  } catch {}
  render();
}

// --- painting ---------------------------------------------------------------------------------

function setText(el, text) {
  const s = text == null ? "" : String(text);
  if (el.textContent !== s) el.textContent = s;
}

function screen() {
  if (S.pack && S.pack.order) return "order";
  if (S.last && S.last.completion && S.completion) return "complete";
  if (!S.pack || !S.pack.packer) return "login";
  return "idle";
}

function tone() {
  const v = S.last;
  if (!v) return "neutral";
  if (COMPLETIONS.has(v.verdict)) return "complete";
  if (!v.accepted) return "reject";
  if (PROMPTS.has(v.verdict)) return "prompt";
  return "accept";
}

function reasonCodes() {
  if (!S.bench) return "";
  return S.bench.reason_codes.map((c) => S.bench.reason_prefix + c.toUpperCase()).join(", ");
}

function verdictContext(v) {
  const line = v.line != null ? S.verdictLines[v.line] : null;
  const pending = (v.pack && v.pack.pending) || {};
  const exception = v.completion && v.completion.exception;
  let packer = v.packer;
  if (v.verdict === "packer_logged_out" && S.bench && v.scan.startsWith(S.bench.packer_badge_prefix)) {
    packer = v.scan.slice(S.bench.packer_badge_prefix.length);
  }
  return {
    verdict: v.verdict,
    scan: masked(v.scan || ""),
    order: v.order,
    name: line ? line.name : "",
    qty: line ? line.qty : 0,
    lineScanned: line ? line.scanned : 0,
    scanned: v.scanned,
    expected: v.expected,
    items: v.scanned,
    box: v.box,
    prevBox: v.box - 1,
    packer,
    item: v.item || null,
    quantity: pending.quantity,
    codes: reasonCodes(),
    reason: exception ? exception.reason : "",
    message: v.message,
  };
}

function renderVerdict(scr) {
  const el = $("verdict");
  const v = S.last;
  const L = t();
  if (!v) {
    setText($("verdict-title"), L.ready);
    setText($("verdict-reason"), S.hello ? L.stationLine(S.hello.station.id, S.hello.version) : "");
    setText($("verdict-detail"), "");
    el.dataset.verdict = "";
    return;
  }
  const text = L.verdicts[v.verdict] || L.unknownVerdict;
  const c = verdictContext(v);
  setText($("verdict-title"), text.title(c));
  setText($("verdict-reason"), text.reason(c));
  setText($("verdict-detail"), text.detail || !L.verdicts[v.verdict] ? v.message : "");
  el.dataset.verdict = v.verdict;
  el.dataset.seq = String(v.seq);
  el.dataset.ref = v.ref || "";
  el.dataset.accepted = String(v.accepted);
}

function renderProgress() {
  const p = S.pack;
  const L = t();
  if (!p || !p.order) return;
  setText($("progress-order"), L.order(p.order));
  setText($("progress-scanned"), p.scanned);
  setText($("progress-expected"), p.expected);
  const share = p.expected ? Math.min(1, p.scanned / p.expected) : 0;
  $("progress-fill").style.transform = `scaleX(${share})`;
  setText($("progress-box"), L.box(p.box));
}

function renderPrompt() {
  const el = $("prompt");
  const L = t();
  const pending = (S.pack && S.pack.pending) || { kind: "none" };
  const kind = pending.kind || "none";
  el.dataset.kind = kind;
  const actions = $("prompt-actions");
  if (kind === "none") {
    setText($("prompt-text"), "");
    if (actions.childElementCount) actions.replaceChildren();
    return;
  }
  const lines = (S.pack && S.pack.lines) || [];
  const line = pending.line != null && pending.line >= 0 ? lines[pending.line] : null;
  const make = L.prompts[kind];
  setText($("prompt-text"), make ? make({ quantity: pending.quantity, name: line ? line.name : "" }) : kind);
  const key = `${kind}:${S.locale}`;
  if (actions.dataset.key === key) return;
  actions.dataset.key = key;
  const buttons = [];
  if (kind === "reason" && S.bench) {
    for (const code of S.bench.reason_codes) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.reason = code;
      b.textContent = code;
      b.addEventListener("click", () => sendScan(S.bench.reason_prefix + code.toUpperCase()));
      buttons.push(b);
    }
  }
  actions.replaceChildren(...buttons);
}

function renderLines() {
  const p = S.pack;
  const list = $("lines");
  if (!p || !p.order) return;
  const details = S.order && S.order.id === p.order ? S.order : null;
  const key = `${p.order}:${p.lines.length}:${details ? "d" : ""}`;
  if (S.linesKey !== key) {
    S.linesKey = key;
    const rows = p.lines.map((l, i) => {
      const li = document.createElement("li");
      li.className = "line";
      li.dataset.line = String(i);
      const image = details && details.lines[i] && details.lines[i].image;
      let pic;
      if (image) {
        pic = document.createElement("img");
        pic.src = image;
        pic.alt = "";
        pic.className = "picture";
        pic.addEventListener("error", () => pic.classList.add("none"));
      } else {
        pic = document.createElement("div");
        pic.className = "picture none";
      }
      const what = document.createElement("div");
      what.className = "what";
      const name = document.createElement("div");
      name.className = "name";
      const sku = document.createElement("div");
      sku.className = "sku";
      what.append(name, sku);
      const count = document.createElement("div");
      count.className = "count";
      const mark = document.createElement("div");
      mark.className = "mark";
      li.append(pic, what, count, mark);
      return li;
    });
    list.replaceChildren(...rows);
  }
  const lastLine = S.last && S.last.order === p.order ? S.last.line : null;
  p.lines.forEach((l, i) => {
    const li = list.children[i];
    if (!li) return;
    const flags = [l.sku];
    if (l.serial_required) flags.push(`S/N ${l.serials.length ? l.serials.join(", ") : "—"}`);
    if (l.lot_required) flags.push("LOT");
    if (l.expiry_required) flags.push("EXP");
    setText(li.querySelector(".name"), l.name);
    setText(li.querySelector(".sku"), flags.join(" · "));
    setText(li.querySelector(".count"), `${l.scanned} / ${l.qty}`);
    setText(li.querySelector(".mark"), l.scanned >= l.qty ? "✓" : "");
    li.classList.toggle("done", l.scanned >= l.qty);
    li.classList.toggle("last", lastLine === i);
  });
  if (lastLine != null && list.children[lastLine]) {
    list.children[lastLine].scrollIntoView({ block: "nearest" });
  }
  const L = t();
  const customer = details && details.customer && details.customer.name;
  setText($("customer"), customer ? L.customer(customer) : "");
}

// A campaign's name as the status bar reports it (the completion knows only its id).
function poolNamed(p) {
  const known = ((S.status && S.status.discount_pools) || []).find((q) => q.campaign === p.name);
  return { ...p, name: known ? known.name : p.name };
}

// The pools of pre-created codes: shown only where the station has pool campaigns; the lowest
// one speaks for all of them.
function renderPools(pools, L) {
  const chip = $("st-codes");
  chip.hidden = pools.length === 0;
  setText(chip.querySelector(".label"), L.codes);
  if (!pools.length) return;
  const worst = pools.reduce((a, b) => (b.remaining < a.remaining ? b : a));
  const low = pools.filter((p) => p.low);
  const empty = low.find((p) => p.remaining === 0);
  chip.dataset.level = empty && empty.fallback === "none" ? "bad" : low.length ? "warn" : "ok";
  chip.dataset.low = low.map((p) => p.campaign).join(" ");
  chip.title = pools.map((p) => `${p.name}: ${p.remaining}`).join("\n");
  setText(
    chip.querySelector(".value"),
    empty ? L.poolEmpty(empty) : low.length ? L.poolLeft(worst) : L.poolsOk,
  );
}

const JOB_MARKS = { printed: "✓", pending: "…", retrying: "⟳" };

function renderComplete() {
  const c = S.completion;
  const L = t();
  if (!c) return;
  const boxes = (c.boxes || []).length || 1;
  const reason = c.exception ? c.exception.reason : "";
  setText($("complete-summary"), c.short ? L.shortSummary({ ...c, reason }) : L.completeSummary({ ...c, boxes }));
  const list = $("printed-list");
  const jobs = c.prints || [];
  list.dataset.printers = new Set(jobs.map((j) => j.printer)).size > 1 ? "many" : "one";
  while (list.childElementCount > jobs.length) list.lastElementChild.remove();
  jobs.forEach((job, i) => {
    let li = list.children[i];
    if (!li) {
      li = document.createElement("li");
      for (const cls of ["role", "printer", "state"]) {
        const span = document.createElement("span");
        span.className = cls;
        li.append(span);
      }
      list.append(li);
    }
    const sameRole = jobs.filter((j) => j.role === job.role);
    const n = sameRole.length > 1 ? ` ${sameRole.indexOf(job) + 1}/${sameRole.length}` : "";
    const state = job.state === "printed" ? "printed" : job.attempts > 0 ? "retrying" : "pending";
    li.dataset.state = job.state;
    li.dataset.role = job.role;
    setText(li.querySelector(".role"), (L.roles[job.role] || job.role) + n);
    setText(li.querySelector(".printer"), job.printer);
    // A mark in the list, the words for a screen reader and on a long press: six jobs (three
    // boxes' labels, the insert, the card, the slip) fit at 1280x800.
    setText(li.querySelector(".state"), JOB_MARKS[state]);
    li.querySelector(".state").setAttribute("aria-label", L.jobState[state]);
    li.dataset.attempts = state === "retrying" ? "retry" : "";
    li.title = [L.jobState[state], job.error].filter(Boolean).join(": ");
  });
  const d = c.discount;
  $("discount").hidden = !(d && d.code);
  setText($("discount-code"), d && d.code ? d.code : "");
  const described = d && ((d.descriptions && d.descriptions[S.locale]) || d.description);
  setText($("discount-note"), d ? described || d.url || "" : "");
  // The code came from a pool that is running low: the packer passes it on.
  const low = d && d.pool_low ? { name: d.campaign, remaining: d.pool_remaining } : null;
  const pool = $("discount-pool");
  pool.hidden = !low;
  $("discount-note").hidden = !!low;
  pool.dataset.remaining = low ? String(low.remaining) : "";
  pool.title = low ? poolNamed(low).name : "";
  setText(pool, low ? L.poolLowNote(low) : "");
  setText($("complete-next"), L.scanNextOrder);
}

// The held change for the order on the bench, if any.
function noticeFor(notices) {
  const order = S.pack && S.pack.order;
  if (!order) return null;
  return (notices || []).find((n) => n.order === order) || null;
}

function renderNotice() {
  const el = $("notice");
  const n = noticeFor(S.notices);
  el.hidden = !n;
  document.body.dataset.notice = n ? "yes" : "no";
  if (!n) {
    el.dataset.change = "";
    el.dataset.order = "";
    return;
  }
  const L = t();
  const text = L.notices[n.change] || L.notices.edit;
  el.dataset.change = n.change;
  el.dataset.order = n.order;
  setText($("notice-title"), text.title);
  setText($("notice-text"), text.text);
  setText($("notice-reason"), n.reason ? L.notices.reason(n.reason) : "");
}

function renderPinpad() {
  const pad = $("pinpad");
  const pending = S.pack && S.pack.pending;
  const show = !!(pending && pending.kind === "supervisor" && S.bench && S.bench.supervisors);
  pad.hidden = !show;
  if (!show) {
    S.pin = "";
    return;
  }
  const L = t();
  setText($("pinpad-title"), L.pin);
  setText($("pinpad-value"), "•".repeat(S.pin.length));
  const keys = $("pinpad-keys");
  if (!keys.childElementCount) {
    for (const k of ["1", "2", "3", "4", "5", "6", "7", "8", "9", "back", "0", "ok"]) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.key = k;
      if (k === "ok") b.className = "ok";
      b.addEventListener("click", () => {
        if (k === "back") S.pin = S.pin.slice(0, -1);
        else if (k === "ok") {
          if (S.pin) sendScan(S.bench.pin_prefix + S.pin);
          S.pin = "";
        } else if (S.pin.length < 12) S.pin += k;
        renderPinpad();
      });
      keys.append(b);
    }
  }
  for (const b of keys.children) {
    setText(b, b.dataset.key === "back" ? L.pinBack : b.dataset.key === "ok" ? L.pinOk : b.dataset.key);
  }
}

function deviceLevel(state) {
  return state === "ready" || state === "busy" ? "ok" : state === "offline" || state === "fault" ? "bad" : "warn";
}

// What a device's chip says: its conditions (paper_out, head_open, ...) in the packer's language
// when the page knows them all, else the station's words for a fault, else the state.
function deviceWords(d, L) {
  const words = (d.conditions || []).map((c) => L.conditions[c]);
  if (words.length && words.every(Boolean)) return words.join(L.listSeparator);
  if (d.state === "fault" && d.detail) return d.detail;
  return L.deviceState[d.state] || d.state;
}

function renderStatus() {
  const st = S.status;
  const L = t();
  const net = $("st-network");
  setText(net.querySelector(".label"), L.network);
  if (st) {
    const n = st.outbox && st.outbox.depth != null ? st.outbox.depth : null;
    const outbox = $("st-outbox");
    outbox.dataset.waiting = n ? "yes" : "no";
    outbox.dataset.depth = String(n);
    setText(outbox.querySelector(".value"), n != null ? L.events(n) : "—");
    let level;
    let word;
    if (st.outbox && st.outbox.error) {
      level = "bad";
      word = st.outbox.error;
    } else if (!st.network.configured) {
      level = "warn";
      word = L.notConfigured;
    } else if (st.network.online === true) {
      level = "ok";
      word = L.online;
    } else if (st.network.online === false) {
      level = "bad";
      word = L.offline;
    } else {
      level = "warn";
      word = L.connecting;
    }
    net.dataset.level = level;
    net.dataset.online = String(st.network.online);
    net.title = st.network.last_error || "";
    setText(net.querySelector(".value"), word);

    const devices = [
      ...(st.printers || []).map((d) => ({ ...d, kind: "printer" })),
      ...(st.scanners || []).map((d) => ({ ...d, kind: "scanner" })),
    ];
    const box = $("st-devices");
    const key = devices.map((d) => `${d.kind}:${d.name}`).join("|");
    if (box.dataset.key !== key) {
      box.dataset.key = key;
      box.replaceChildren(
        ...devices.map((d) => {
          const chip = document.createElement("div");
          chip.className = "chip";
          chip.dataset.kind = d.kind;
          chip.dataset.name = d.name;
          chip.innerHTML = '<span class="dot"></span><span class="label"></span><span class="value"></span>';
          return chip;
        }),
      );
    }
    devices.forEach((d, i) => {
      const chip = box.children[i];
      chip.dataset.level = deviceLevel(d.state);
      chip.dataset.state = d.state;
      chip.title = d.detail || "";
      setText(chip.querySelector(".label"), `${d.kind === "printer" ? L.printer : L.scanner} · ${d.name}`);
      setText(chip.querySelector(".value"), deviceWords(d, L));
    });
    renderPools(st.discount_pools || [], L);
    const cam = $("st-camera");
    const cameras = st.cameras || [];
    cam.dataset.level = cameras.length ? deviceLevel(cameras[0].state) : "idle";
    setText(cam.querySelector(".value"), cameras.length ? L.deviceState[cameras[0].state] || cameras[0].state : L.none);
  } else {
    setText(net.querySelector(".value"), "…");
  }
  setText($("st-camera").querySelector(".label"), L.camera);
  setText($("st-station").querySelector(".label"), L.station);
  setText($("st-station").querySelector(".value"), (S.hello && S.hello.station.id) || "…");
  setText($("st-packer").querySelector(".label"), L.packer);
  setText($("st-packer").querySelector(".value"), (S.pack && S.pack.packer) || L.nobody);
  const locales = (S.hello && S.hello.locales) || Object.keys(STRINGS);
  const next = locales[(locales.indexOf(S.locale) + 1) % locales.length];
  const other = STRINGS[next] || STRINGS.en;
  setText($("locale"), other.lang);
  $("locale").lang = next;
}

function renderScanField() {
  const L = t();
  const field = $("scan");
  field.dataset.focus = S.focused ? "yes" : "no";
  setText($("scan-buffer"), masked(S.buffer));
  let hint;
  if (!S.focused) hint = L.focusLost;
  else if (S.queue.length) hint = L.queued(S.queue.length);
  else if (S.unanswered.length) hint = L.unanswered(S.unanswered.length);
  else if (S.buffer) hint = "";
  else if (S.lastSent) hint = L.lastScan(masked(S.lastSent));
  else hint = L.scannerReady;
  setText($("scan-hint"), hint);
  field.dataset.queued = String(S.queue.length);
}

function renderActions(scr) {
  const L = t();
  const open = !!(S.pack && S.pack.order);
  const pending = S.pack && S.pack.pending && S.pack.pending.kind !== "none";
  const supervisors = !!(S.bench && S.bench.supervisors);
  const online = S.conn === "online";
  const enable = {
    UNDO: open || pending,
    "CLOSE-BOX": open,
    SHORT: open && supervisors,
    CANCEL: open,
    REOPEN: !open && supervisors && scr !== "order",
  };
  for (const b of document.querySelectorAll(".action")) {
    const cmd = b.dataset.cmd;
    b.disabled = !online || !enable[cmd];
    const armed = cmd === "CANCEL" && S.cancelArmed > performance.now();
    b.classList.toggle("armed", armed);
    setText(b, armed ? L.actions.confirmCancel : L.actions[cmd]);
  }
}

function renderConn() {
  const el = $("conn");
  el.dataset.state = S.conn;
  const L = t();
  setText($("conn-text"), S.conn === "reconnecting" ? L.reconnecting(S.attempts) : S.conn === "connecting" ? L.connectingStation : "");
}

function render() {
  const scr = screen();
  document.documentElement.lang = S.locale;
  document.body.dataset.screen = scr;
  document.body.dataset.tone = tone();
  const L = t();
  for (const el of document.querySelectorAll("[data-i18n]")) setText(el, L[el.dataset.i18n]);
  setText($("login-instruction"), L.scanYourBadge);
  setText($("login-sub"), S.bench && S.bench.require_packer ? "" : L.orScanOrder);
  setText($("idle-instruction"), L.scanAnOrder);
  setText($("idle-sub"), S.pack && S.pack.packer ? L.loggedInAs(S.pack.packer) : "");
  renderVerdict(scr);
  renderProgress();
  renderPrompt();
  if (scr === "order") renderLines();
  if (scr === "complete") renderComplete();
  renderNotice();
  renderPinpad();
  renderStatus();
  renderScanField();
  renderActions(scr);
  renderConn();
}

// --- wiring -----------------------------------------------------------------------------------

function keepFocus() {
  const field = $("scan");
  if (document.activeElement !== field) field.focus({ preventScroll: true });
}

window.addEventListener("keydown", onKey, true);
window.addEventListener("paste", onPaste, true);
window.addEventListener("pointerdown", wakeAudio, true);
window.addEventListener("focus", () => {
  S.focused = true;
  keepFocus();
  renderScanField();
});
window.addEventListener("blur", () => {
  S.focused = false;
  renderScanField();
});
// Buttons act on click, then hand the focus back to the scan field.
document.addEventListener("click", () => setTimeout(keepFocus, 0));

for (const b of document.querySelectorAll(".action")) {
  b.addEventListener("click", () => {
    const cmd = b.dataset.cmd;
    if (cmd === "CANCEL" && !(S.cancelArmed > performance.now())) {
      // Cancelling throws the box's work away: it takes a second tap.
      S.cancelArmed = performance.now() + 3000;
      setTimeout(render, 3050);
      render();
      return;
    }
    S.cancelArmed = 0;
    command(cmd);
    render();
  });
}
$("locale").addEventListener("click", switchLocale);

// What tests and benchmarks read.
window.packbench = {
  latencies: S.latencies,
  sounds: S.sounds,
  state: () => ({
    conn: S.conn,
    screen: screen(),
    locale: S.locale,
    pack: S.pack,
    last: S.last,
    completion: S.completion,
    queued: S.queue.length,
    pending: S.pending.size,
    verdicts: S.verdicts,
    unanswered: S.unanswered.length,
    notices: S.notices,
  }),
};

S.focused = document.hasFocus();
render();
keepFocus();
connect();
