// graphql_ref.mjs — the JavaScript yardstick, in process: times graphql-js on
// the same SDL file that `wesley compile` reads. The judged figure is
// buildSchema(sdl, {assumeValidSDL: true}): the parser plus the schema a
// GraphQL user gets from it. Wesley's directives and scalars are not declared
// in the file, so full validation would refuse it; assumeValidSDL skips that
// validation. parse() alone is timed too, for reference.
//   node bench/graphql_ref.mjs FILE [RUNS]
// Prints one JSON object: the median times of buildSchema() and parse() over
// RUNS rounds (each round: parse(), then buildSchema(), of the text read once).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parse, buildSchema, version } from 'graphql';

const file = process.argv[2];
const runs = Number(process.argv[3] || 3);
if (!file || !Number.isInteger(runs) || runs < 1) {
  console.error('usage: node bench/graphql_ref.mjs FILE [RUNS>=1]');
  process.exit(2);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const t0 = performance.now();
const sdl = readFileSync(file, 'utf8');
const readMs = performance.now() - t0;
const parseMs = [];
const buildMs = [];
let definitions = 0;
let types = 0;
for (let i = 0; i < runs; i++) {
  let t = performance.now();
  const doc = parse(sdl);
  parseMs.push(performance.now() - t);
  definitions = doc.definitions.length;
  t = performance.now();
  const schema = buildSchema(sdl, { assumeValidSDL: true });
  buildMs.push(performance.now() - t);
  types = Object.keys(schema.getTypeMap()).length;
}
console.log(JSON.stringify({
  graphql_version: version,
  node_version: process.version,
  runs,
  read_ms: +readMs.toFixed(1),
  build_schema_ms: +median(buildMs).toFixed(1),
  parse_ms: +median(parseMs).toFixed(1),
  build_schema_ms_first: +buildMs[0].toFixed(1),
  parse_ms_first: +parseMs[0].toFixed(1),
  definitions,
  types,
  rss_kb_at_end: Math.round(process.memoryUsage().rss / 1024),
}));
