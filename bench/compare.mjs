// make compare: the 3d/3e command line (25 nodes, 100 ms latency, rate 100) across Maelstrom's
// topologies and the broadcast node's own overlays, at several gossip intervals. Writes
// store/compare/compare.md (table), compare.svg (msgs-per-op against median stable latency,
// Pareto frontier drawn) and compare.json.
//
// usage: node bench/compare.mjs [--jobs N] [--time-limit S] [--quick] [--only TEXT] [--out DIR]
//   --jobs N        runs at once (default 1: on 2 cores parallel 25-node runs inflate latencies;
//                   rows whose harness fell behind are marked either way)
//   --time-limit S  seconds of load per run (default 20, as in the challenge)
//   --quick         a handful of runs at --time-limit 10, to check the pipeline
//   --only TEXT     only runs whose label contains TEXT
//   --from-json F   no runs: redraw the table and chart from an earlier compare.json
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { challengeArgs, latenessLimitMs, pool, repoRoot, runBroadcast } from './broadcast-runs.mjs';

function parseCli(argv) {
  const options = { jobs: 1, timeLimitS: 20, quick: false, only: '', out: path.join(repoRoot, 'store', 'compare') };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = () => {
      i += 1;
      if (argv[i] === undefined) throw new Error(`${flag} needs a value`);
      return argv[i];
    };
    if (flag === '--jobs') options.jobs = Number(value());
    else if (flag === '--time-limit') options.timeLimitS = Number(value());
    else if (flag === '--quick') options.quick = true;
    else if (flag === '--only') options.only = value();
    else if (flag === '--out') options.out = path.resolve(value());
    else if (flag === '--from-json') options.fromJson = path.resolve(value());
    else if (flag === '-h' || flag === '--help') {
      console.log('usage: node bench/compare.mjs [--jobs N] [--time-limit S] [--quick] [--only TEXT] [--out DIR] [--from-json FILE]');
      process.exit(0);
    } else throw new Error(`unknown argument ${flag}`);
  }
  if (!(options.jobs >= 1) || !(options.timeLimitS > 0)) throw new Error('--jobs and --time-limit must be positive');
  return options;
}

/** label, topology shown in the table, interval shown, glomers args, node args */
function plan(quick) {
  const runs = [];
  const maelstromIntervals = quick ? [100] : [0, 100, 300];
  for (const topology of ['grid', 'line', 'total', 'tree2', 'tree3', 'tree4']) {
    if (quick && !['grid', 'total'].includes(topology)) continue;
    for (const interval of maelstromIntervals) {
      runs.push({
        label: `maelstrom-${topology}@${interval}`,
        topology: `maelstrom ${topology}`,
        interval,
        harnessArgs: ['--topology', topology],
        nodeArgs: ['--overlay', 'maelstrom', '--interval', String(interval)],
      });
    }
  }
  const own = [
    ...(quick ? [25, 250] : [0, 15, 25, 50, 100, 200, 250, 300, 400]).map((interval) => ({ kind: 'star', interval, extra: [] })),
    ...(quick ? [] : [0, 50]).map((interval) => ({ kind: 'total', interval, extra: [] })),
    ...(quick ? [] : [50, 200]).map((interval) => ({ kind: 'tree', interval, extra: ['--fanout', '5'] })),
    // Leaves batching too: fewer uploads, later delivery.
    ...(quick ? [] : [{ kind: 'star', interval: 250, extra: ['--leaf-interval', '250'] }]),
  ];
  for (const { kind, interval, extra } of own) {
    const leafNote = extra.includes('--leaf-interval') ? ' leaves batched' : '';
    const fanoutNote = extra.includes('--fanout') ? ` fan-out ${extra[extra.indexOf('--fanout') + 1]}` : '';
    runs.push({
      label: `own-${kind}${fanoutNote.replace(/ fan-out /, '')}${leafNote ? '-leafbatch' : ''}@${interval}`,
      topology: `own ${kind}${fanoutNote}${leafNote}`,
      interval,
      harnessArgs: [],
      nodeArgs: ['--overlay', kind, '--interval', String(interval), ...extra],
    });
  }
  return runs;
}

const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '—');

function paretoFrontier(rows) {
  const candidates = rows
    .filter((r) => r.valid === true && Number.isFinite(r.msgsPerOpServers) && Number.isFinite(r.p50))
    .sort((a, b) => a.msgsPerOpServers - b.msgsPerOpServers || a.p50 - b.p50);
  const frontier = [];
  let best = Infinity;
  for (const row of candidates) {
    if (row.p50 < best) {
      frontier.push(row);
      best = row.p50;
    }
  }
  return frontier;
}

function markdown(rows, options, frontier) {
  const lines = [
    '# Broadcast: topology and interval comparison',
    '',
    `Command line per run: \`bin/glomers test -w broadcast --bin bin/broadcast ${challengeArgs.join(' ').replace('--time-limit 20', `--time-limit ${options.timeLimitS}`)} [--topology T] -- <node args>\`.`,
    'msgs-per-op is `:net :servers` and `:net :all`; latencies are `:workload :stable-latencies` in ms.',
    `Interval is the flush interval of nodes with two or more neighbours; nodes with one neighbour send at once unless noted. ★ = on the Pareto frontier of msgs-per-op against median latency. ⚠ = the harness flagged itself behind (delivery lateness p99 above 5 ms) or p99 lateness above ${latenessLimitMs} ms: latencies slightly inflated.`,
    '',
    '| topology | interval ms | msgs-per-op servers | msgs-per-op all | p50 | p95 | p99 | max | valid | lateness p99 ms | node args |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|',
  ];
  for (const row of rows) {
    const star = frontier.includes(row) ? ' ★' : '';
    const warn = row.harnessBehind ? ' ⚠' : '';
    lines.push(
      `| ${row.topology}${star} | ${row.interval} | ${fmt(row.msgsPerOpServers)} | ${fmt(row.msgsPerOpAll)} | ${fmt(row.p50, 0)} | ${fmt(row.p95, 0)} | ${fmt(row.p99, 0)} | ${fmt(row.max, 0)} | ${row.error ? 'error' : String(row.valid)} | ${fmt(row.latenessP99Ms, 1)}${warn} | \`${row.nodeArgs.join(' ')}\` |`,
    );
  }
  lines.push('', 'Challenge limits: 3d msgs-per-op < 30, median < 400 ms, max < 600 ms; 3e msgs-per-op < 20, median < 1 s, max < 2 s.', '');
  return lines.join('\n');
}

function svg(rows, frontier) {
  const width = 1100;
  const height = 560;
  const margin = { left: 70, right: 240, top: 40, bottom: 60 };
  const points = rows.filter((r) => Number.isFinite(r.msgsPerOpServers) && r.msgsPerOpServers > 0 && Number.isFinite(r.p50));
  const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  if (points.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="80"><text x="10" y="40">no runs with figures</text></svg>\n`;
  }
  const xs = points.map((p) => Math.log10(p.msgsPerOpServers));
  const xMin = Math.floor(Math.min(...xs) * 4) / 4;
  const xMax = Math.ceil(Math.max(...xs) * 4) / 4 + 0.01;
  // Latencies span 50 ms (star, mesh) to seconds (line): log scale on both axes.
  const ys = points.map((p) => Math.log10(Math.max(10, p.p50)));
  const yMin = Math.floor(Math.min(...ys) * 2) / 2;
  const yMax = Math.ceil(Math.max(...ys) * 2) / 2 + 0.01;
  const px = (mpo) => margin.left + ((Math.log10(mpo) - xMin) / (xMax - xMin)) * (width - margin.left - margin.right);
  const py = (ms) =>
    height - margin.bottom - ((Math.log10(Math.max(10, ms)) - yMin) / (yMax - yMin)) * (height - margin.top - margin.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${(width - margin.right + margin.left) / 2}" y="22" text-anchor="middle" font-size="14">Broadcast, 25 nodes, 100 ms latency, rate 100: messages per op against median stable latency</text>`,
  ];
  for (let decade = Math.ceil(xMin); decade <= xMax; decade += 1) {
    for (const m of [1, 2, 5]) {
      const value = m * 10 ** decade;
      if (Math.log10(value) < xMin || Math.log10(value) > xMax) continue;
      const x = px(value);
      parts.push(`<line x1="${x}" y1="${margin.top}" x2="${x}" y2="${height - margin.bottom}" stroke="#eee"/>`);
      parts.push(`<text x="${x}" y="${height - margin.bottom + 16}" text-anchor="middle">${value}</text>`);
    }
  }
  for (let decade = Math.floor(yMin); decade <= yMax; decade += 1) {
    for (const m of [1, 2, 5]) {
      const ms = m * 10 ** decade;
      if (Math.log10(ms) < yMin || Math.log10(ms) > yMax) continue;
      const y = py(ms);
      parts.push(`<line x1="${margin.left}" y1="${y}" x2="${width - margin.right}" y2="${y}" stroke="#eee"/>`);
      parts.push(`<text x="${margin.left - 6}" y="${y + 4}" text-anchor="end">${ms}</text>`);
    }
  }
  parts.push(`<text x="${(width - margin.right + margin.left) / 2}" y="${height - 18}" text-anchor="middle">msgs-per-op (:net :servers, log scale)</text>`);
  parts.push(`<text transform="translate(18 ${height / 2}) rotate(-90)" text-anchor="middle">median stable latency (ms, log scale)</text>`);
  if (frontier.length > 1) {
    const path = frontier.map((r, i) => `${i === 0 ? 'M' : 'L'}${px(r.msgsPerOpServers).toFixed(1)},${py(r.p50).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="5 3"/>`);
  }
  for (const row of points) {
    const x = px(row.msgsPerOpServers);
    const y = py(row.p50);
    const colour = row.valid !== true ? '#999' : row.topology.startsWith('own') ? '#1f77b4' : '#2ca02c';
    const fill = row.harnessBehind ? 'white' : colour;
    parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${frontier.includes(row) ? 5 : 3.5}" fill="${fill}" stroke="${colour}" stroke-width="1.5"><title>${escape(`${row.label}: ${fmt(row.msgsPerOpServers)} msgs/op, p50 ${row.p50} ms, max ${row.max} ms`)}</title></circle>`);
    parts.push(`<text x="${(x + 6).toFixed(1)}" y="${(y - 4).toFixed(1)}" font-size="9" fill="#444">${escape(row.label)}</text>`);
  }
  const legendY = margin.top + 8;
  const legendX = width - margin.right + 30;
  parts.push(`<circle cx="${legendX}" cy="${legendY}" r="4" fill="#2ca02c"/><text x="${legendX + 8}" y="${legendY + 4}">Maelstrom topology message</text>`);
  parts.push(`<circle cx="${legendX}" cy="${legendY + 16}" r="4" fill="#1f77b4"/><text x="${legendX + 8}" y="${legendY + 20}">node's own overlay</text>`);
  parts.push(`<line x1="${legendX - 6}" y1="${legendY + 32}" x2="${legendX + 6}" y2="${legendY + 32}" stroke="#d62728" stroke-dasharray="5 3"/><text x="${legendX + 8}" y="${legendY + 36}">Pareto frontier (valid runs)</text>`);
  parts.push(`<circle cx="${legendX}" cy="${legendY + 48}" r="4" fill="white" stroke="#555"/><text x="${legendX + 8}" y="${legendY + 52}">hollow: harness fell behind</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

const options = parseCli(process.argv.slice(2));
const runs = plan(options.quick).filter((run) => run.label.includes(options.only));
const timeLimitS = options.quick ? Math.min(options.timeLimitS, 10) : options.timeLimitS;
const harnessBase = challengeArgs.map((a, i, all) => (all[i - 1] === '--time-limit' ? String(timeLimitS) : a));
mkdirSync(options.out, { recursive: true });
const started = Date.now();
const results = options.fromJson === undefined ? await runAll() : JSON.parse(readFileSync(options.fromJson, 'utf8'));

async function runAll() {
  const runsDir = path.join(options.out, 'runs');
  rmSync(runsDir, { recursive: true, force: true });
  console.log(`compare: ${runs.length} runs, ${options.jobs} at a time, --time-limit ${timeLimitS}`);
  return pool(
    runs.map((run) => async () => {
      const summary = await runBroadcast({
        harnessArgs: [...harnessBase, ...run.harnessArgs],
        nodeArgs: run.nodeArgs,
        storeDir: path.join(runsDir, run.label.replace(/[^a-zA-Z0-9@._-]/g, '_')),
      });
      const row = { ...run, ...summary };
      console.log(
        `  ${run.label.padEnd(34)} valid=${String(row.valid).padEnd(5)} msgs/op ${fmt(row.msgsPerOpServers).padStart(6)}  p50 ${fmt(row.p50, 0).padStart(5)}  max ${fmt(row.max, 0).padStart(5)}  lateness p99 ${fmt(row.latenessP99Ms, 1)}${row.error ? `  error: ${row.error}` : ''}`,
      );
      return row;
    }),
    options.jobs,
  );
}
const frontier = paretoFrontier(results);
writeFileSync(path.join(options.out, 'compare.md'), markdown(results, { timeLimitS }, frontier));
writeFileSync(path.join(options.out, 'compare.svg'), svg(results, frontier));
writeFileSync(path.join(options.out, 'compare.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`compare: done in ${Math.round((Date.now() - started) / 1000)} s; wrote ${path.relative(repoRoot, options.out)}/compare.{md,svg,json}`);
