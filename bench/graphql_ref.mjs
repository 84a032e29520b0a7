// graphql_ref.mjs — the JavaScript yardstick, in process: times graphql-js on
// the same SDL file that `wesley compile` reads. The judged figure is
// buildSchema(sdl, {assumeValidSDL: true}): the parser plus the schema a
// GraphQL user gets from it. Wesley's directives and scalars are not declared
// in the file, so full validation would refuse it; assumeValidSDL skips that
// validation. parse() alone is timed too, for reference.
//   node bench/graphql_ref.mjs FILE [RUNS [WARMUP]]
//   node --expose-gc bench/graphql_ref.mjs FILE 1 1   (as bench/run runs it, once a round)
// Prints one JSON object: the median times of buildSchema() and parse() of
// the text read once, RUNS timed calls each, after WARMUP untimed calls of
// each (default 0) that let the JIT compile them.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parse, buildSchema, version } from 'graphql';

const file = process.argv[2];
const runs = Number(process.argv[3] || 3);
const warmup = Number(process.argv[4] || 0);
if (!file || !Number.isInteger(runs) || runs < 1 || !Number.isInteger(warmup) || warmup < 0) {
  console.error('usage: node bench/graphql_ref.mjs FILE [RUNS>=1 [WARMUP>=0]]');
  process.exit(2);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const t0 = performance.now();
const sdl = readFileSync(file, 'utf8');
const readMs = performance.now() - t0;
// Each call is timed from a collected heap when node runs with --expose-gc
// (bench/run does), so that one round's garbage is not collected on the next
// round's clock; all buildSchema rounds first, then all parse rounds.
const collect = () => { if (globalThis.gc) { globalThis.gc(); } };
const buildMs = [];
const parseMs = [];
let types = 0;
let definitions = 0;
for (let i = 0; i < warmup; i++) {
  buildSchema(sdl, { assumeValidSDL: true });
  parse(sdl);
}
for (let i = 0; i < runs; i++) {
  collect();
  const t = performance.now();
  const schema = buildSchema(sdl, { assumeValidSDL: true });
  buildMs.push(performance.now() - t);
  types = Object.keys(schema.getTypeMap()).length;
}
for (let i = 0; i < runs; i++) {
  collect();
  const t = performance.now();
  const doc = parse(sdl);
  parseMs.push(performance.now() - t);
  definitions = doc.definitions.length;
}
console.log(JSON.stringify({
  graphql_version: version,
  node_version: process.version,
  runs,
  warmup,
  read_ms: +readMs.toFixed(1),
  build_schema_ms: +median(buildMs).toFixed(1),
  parse_ms: +median(parseMs).toFixed(1),
  build_schema_ms_first: +buildMs[0].toFixed(1),
  parse_ms_first: +parseMs[0].toFixed(1),
  definitions,
  types,
  gc_between_calls: typeof globalThis.gc === 'function',
  rss_kb_at_end: Math.round(process.memoryUsage().rss / 1024),
}));
