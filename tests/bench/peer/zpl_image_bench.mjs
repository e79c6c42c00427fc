// The peer of `tools/dev bench labels`: the npm package zpl-image encoding a bitmap to Z64.
//
//   node zpl_image_bench.mjs IN.pbm OUT_DIR [RUNS] [WARMUP] [BAND_ROWS]
//
// IN.pbm is a binary PBM (P4: rows of ceil(width/8) bytes, 1 = black), the same raster the
// station encodes. zpl-image takes RGBA pixels, so each dot becomes opaque black (0,0,0,255) or
// opaque white (255,255,255,255): its grey threshold (50 % by default) then gives back exactly
// the same dots. Building that RGBA buffer is not timed; everything rgbaToZ64 does is.
//
// Measured, each RUNS times after WARMUP untimed calls:
//   whole    rgbaToZ64(rgba, width, {notrim: true}): the whole bitmap, as placed at ^FO0,0
//   trimmed  rgbaToZ64(rgba, width): its default, which crops the white margins (and so loses
//            where the ink was; the caller has to know the offset to place it)
//   banded   rgbaToZ64(band, width, {notrim: true}) for each band of BAND_ROWS rows (all rows
//            when 0), each placed with ^FO0,y: what a caller must do for a bitmap whose one
//            ^GF would exceed the printer's limit of 99,999 bytes
//   deflate  node's zlib.deflateSync + base64 of the packed rows alone: the compression step
//            inside rgbaToZ64, without its pixel work (not an encoder; for reading the figures)
//
// Writes OUT_DIR/zpl-image-whole.gf and OUT_DIR/zpl-image-trimmed.gf, each one
// "^GFA,b,c,d,:Z64:...:crc" as its README shows, OUT_DIR/zpl-image-banded.gf with one
// "^FO0,y^GFA,...^FS" per band, and prints one JSON object on stdout.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const { rgbaToZ64 } = require('zpl-image');
const { version } = require('zpl-image/package.json');

function fail(message) {
  process.stderr.write(`zpl_image_bench: ${message}\n`);
  process.exit(2);
}

// Netpbm's P4: "P4", width, height (whitespace and # comments between), one whitespace byte,
// then the rows.
function readPbm(path) {
  const bytes = readFileSync(path);
  let pos = 0;
  const token = () => {
    for (;;) {
      while (pos < bytes.length && /\s/.test(String.fromCharCode(bytes[pos]))) pos++;
      if (bytes[pos] !== 0x23) break;  // '#'
      while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
    }
    const start = pos;
    while (pos < bytes.length && !/\s/.test(String.fromCharCode(bytes[pos]))) pos++;
    return bytes.subarray(start, pos).toString('latin1');
  };
  if (token() !== 'P4') fail(`${path} is not a binary PBM (P4)`);
  const width = Number(token());
  const height = Number(token());
  pos++;  // the single whitespace byte before the raster
  const stride = Math.ceil(width / 8);
  if (!(width > 0 && height > 0) || bytes.length - pos < stride * height) {
    fail(`${path}: bad size or truncated raster`);
  }
  return { width, height, stride, rows: bytes.subarray(pos, pos + stride * height) };
}

function toRgba({ width, height, stride, rows }) {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const black = (rows[y * stride + (x >> 3)] >> (7 - (x & 7))) & 1;
      const i = (y * width + x) * 4;
      const v = black ? 0 : 255;
      rgba[i] = v;
      rgba[i + 1] = v;
      rgba[i + 2] = v;
      rgba[i + 3] = 255;
    }
  }
  return rgba;
}

// Nearest rank, as the C++ side computes it.
function percentile(samples, p) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(p * (sorted.length - 1))];
}

function measure(runs, warmup, fn) {
  let out;
  for (let i = 0; i < warmup; i++) out = fn();
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    out = fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { out, median_ms: percentile(ms, 0.5), p99_ms: percentile(ms, 0.99) };
}

const [inPath, outDir, runsArg, warmupArg, bandArg] = process.argv.slice(2);
if (!inPath || !outDir) fail('usage: zpl_image_bench.mjs IN.pbm OUT_DIR [RUNS] [WARMUP] [BAND_ROWS]');
const runs = Number(runsArg ?? 200);
const warmup = Number(warmupArg ?? 20);
const bandArgRows = Number(bandArg ?? 0);
if (!(runs >= 1) || !(warmup >= 0) || !(bandArgRows >= 0)) {
  fail('RUNS must be at least 1, WARMUP and BAND_ROWS at least 0');
}

const pbm = readPbm(inPath);
const rgba = toRgba(pbm);
const gf = (r) => `^GFA,${r.length},${r.length},${r.rowlen},${r.z64}`;

const result = { package: 'zpl-image', version, node: process.version, width: pbm.width,
                 height: pbm.height, runs, warmup };
for (const [name, opts] of [['whole', { notrim: true }], ['trimmed', {}]]) {
  const m = measure(runs, warmup, () => rgbaToZ64(rgba, pbm.width, opts));
  const text = gf(m.out);
  const file = join(outDir, `zpl-image-${name}.gf`);
  writeFileSync(file, text, 'latin1');
  result[name] = { median_ms: m.median_ms, p99_ms: m.p99_ms, bytes: text.length, gf: file,
                   width: m.out.width, height: m.out.height };
}
const bandRows = bandArgRows || pbm.height;
const banded = measure(runs, warmup, () => {
  const fields = [];
  for (let y = 0; y < pbm.height; y += bandRows) {
    const band = rgba.subarray(y * pbm.width * 4, Math.min(pbm.height, y + bandRows) * pbm.width * 4);
    fields.push(`^FO0,${y}` + gf(rgbaToZ64(band, pbm.width, { notrim: true })) + '^FS');
  }
  return fields;
});
{
  const file = join(outDir, 'zpl-image-banded.gf');
  writeFileSync(file, banded.out.join(''), 'latin1');
  result.banded = { median_ms: banded.median_ms, p99_ms: banded.p99_ms, bands: banded.out.length,
                    band_rows: bandRows, gf: file };
}
const d = measure(runs, warmup, () => deflateSync(pbm.rows).toString('base64'));
result.deflate = { median_ms: d.median_ms, p99_ms: d.p99_ms, bytes: d.out.length };
process.stdout.write(JSON.stringify(result) + '\n');
