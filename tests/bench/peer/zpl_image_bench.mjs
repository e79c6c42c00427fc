// The peer of `tools/dev bench labels`: the npm package zpl-image encoding a bitmap to Z64.
//
//   node zpl_image_bench.mjs IN.pbm OUT_DIR BAND_ROWS
//
// IN.pbm is a binary PBM (P4: rows of ceil(width/8) bytes, 1 = black), the same raster the
// station encodes. zpl-image takes RGBA pixels, so each dot becomes opaque black (0,0,0,255) or
// opaque white (255,255,255,255): its grey threshold (50 % by default) then gives back exactly
// the same dots. Building that RGBA buffer is not timed; everything rgbaToZ64 does is.
//
// The encodings:
//   whole    rgbaToZ64(rgba, width, {notrim: true}): the whole bitmap, as placed at ^FO0,0
//   trimmed  rgbaToZ64(rgba, width): its default, which crops the white margins (and so loses
//            where the ink was; the caller has to know the offset to place it)
//   banded   rgbaToZ64(band, width, {notrim: true}) for each band of BAND_ROWS rows (all rows
//            when 0), each placed with ^FO0,y: what a caller must do for a bitmap whose one
//            ^GF would exceed the printer's limit of 99,999 bytes
//   deflate  node's zlib.deflateSync + base64 of the packed rows alone: the compression step
//            inside rgbaToZ64, without its pixel work (not an encoder; for reading the figures)
//
// First runs each once, writes OUT_DIR/zpl-image-{whole,trimmed,banded}.gf (one
// "^GFA,b,c,d,:Z64:...:crc" as its README assembles it; for banded one "^FO0,y^GFA,...^FS" per
// band) and prints one line of JSON describing them. Then, for each line read on stdin naming an
// encoding, runs it once more and prints "WALL_MS CPU_MS" for that call alone, so the caller can
// interleave these runs with its own and both see the same machine. Ends at the end of stdin.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
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

const [inPath, outDir, bandArg] = process.argv.slice(2);
if (!inPath || !outDir) fail('usage: zpl_image_bench.mjs IN.pbm OUT_DIR BAND_ROWS');
const bandArgRows = Number(bandArg ?? 0);
if (!(bandArgRows >= 0)) fail('BAND_ROWS must be 0 or more');

const pbm = readPbm(inPath);
const rgba = toRgba(pbm);
const bandRows = bandArgRows || pbm.height;
const gf = (r) => `^GFA,${r.length},${r.length},${r.rowlen},${r.z64}`;

const encodings = {
  whole: () => rgbaToZ64(rgba, pbm.width, { notrim: true }),
  trimmed: () => rgbaToZ64(rgba, pbm.width),
  banded: () => {
    const fields = [];
    for (let y = 0; y < pbm.height; y += bandRows) {
      const end = Math.min(pbm.height, y + bandRows);
      const band = rgba.subarray(y * pbm.width * 4, end * pbm.width * 4);
      fields.push(`^FO0,${y}` + gf(rgbaToZ64(band, pbm.width, { notrim: true })) + '^FS');
    }
    return fields;
  },
  deflate: () => deflateSync(pbm.rows).toString('base64'),
};

const result = { package: 'zpl-image', version, node: process.version, width: pbm.width,
                 height: pbm.height };
for (const name of ['whole', 'trimmed']) {
  const r = encodings[name]();
  const file = join(outDir, `zpl-image-${name}.gf`);
  writeFileSync(file, gf(r), 'latin1');
  result[name] = { gf: file, width: r.width, height: r.height };
}
{
  const fields = encodings.banded();
  const file = join(outDir, 'zpl-image-banded.gf');
  writeFileSync(file, fields.join(''), 'latin1');
  result.banded = { gf: file, bands: fields.length, band_rows: bandRows };
}
result.deflate = { bytes: encodings.deflate().length };
process.stdout.write(JSON.stringify(result) + '\n');

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const encode = encodings[line.trim()];
  if (!encode) fail(`unknown encoding '${line.trim()}'`);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  encode();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`${wall} ${(cpu.user + cpu.system) / 1000}\n`);
});
