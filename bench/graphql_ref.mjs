// graphql_ref.mjs — the JavaScript yardstick: times graphql-js on the same
// SDL file that `wesley compile` reads. Wesley's directives and scalars are
// not declared in the file, so buildSchema runs with assumeValidSDL.
//   node bench/graphql_ref.mjs FILE [RUNS]
// Prints one JSON object: the median times of parse() and buildSchema().
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parse, buildSchema } from 'graphql';

const file = process.argv[2];
const runs = Number(process.argv[3] || 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const t0 = performance.now();
const sdl = readFileSync(file, 'utf8');
const readMs = performance.now() - t0;
const parseMs = [];
const buildMs = [];
let types = 0;
for (let i = 0; i < runs; i++) {
  let t = performance.now();
  const doc = parse(sdl, { noLocation: false });
  parseMs.push(performance.now() - t);
  types = doc.definitions.length;
  t = performance.now();
  buildSchema(sdl, { assumeValidSDL: true });
  buildMs.push(performance.now() - t);
}
const mem = process.memoryUsage();
console.log(JSON.stringify({
  graphql_version: (await import('graphql')).version,
  node_version: process.version,
  runs,
  read_ms: +readMs.toFixed(1),
  parse_ms: +median(parseMs).toFixed(1),
  build_schema_ms: +median(buildMs).toFixed(1),
  parse_ms_first: +parseMs[0].toFixed(1),
  build_schema_ms_first: +buildMs[0].toFixed(1),
  definitions: types,
  rss_kb: Math.round(mem.rss / 1024),
}));
