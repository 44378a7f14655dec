// The HTML report of a run (report.html in the results folder): one self-contained page, no
// scripts and no dependencies, plots drawn as inline SVG, as Jepsen draws them:
//   - throughput: completions per second over time, one line each for ok, fail and info;
//   - latency: one point per operation (at its invocation; log scale), coloured by outcome,
//     with the median and the 99th percentile per time bucket;
// both with the nemesis's fault windows shaded (one colour per kind of fault). Then the
// verdicts with their anomalies, the nemesis timeline, and the tail of each node's log.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Verdict } from './checkers';
import { PairedOp } from './history';
import { TimelineEntry } from './nemesis';

export interface ReportInput {
  title: string;
  /** Run parameters shown at the top (seed, workloads, ...). */
  meta: Record<string, unknown>;
  valid: boolean | 'unknown';
  ops: PairedOp[];
  timeline: TimelineEntry[];
  verdicts: Verdict[];
  /** Node log files, relative to the report's folder. */
  logs: string[];
}

export interface FaultWindow {
  f: string;
  value: unknown;
  startS: number;
  endS: number;
}

const W = 1000;
const H = 260;
const M = { left: 60, right: 20, top: 20, bottom: 36 };
const COLORS: Record<string, string> = { ok: '#2a9d4b', fail: '#d62728', info: '#f0a000' };
const FAULT_COLORS: Record<string, string> = { kill: '#e45756', pause: '#f2b134', partition: '#4c78a8', transfer: '#9467bd', slow: '#3aa39a', membership: '#8c564b' };
const MAX_POINTS = 20000;

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Fault windows from the timeline: each start with the end that follows it (the run's end if none). */
export function faultWindows(timeline: TimelineEntry[], endS: number): FaultWindow[] {
  const out: FaultWindow[] = [];
  let open: FaultWindow | null = null;
  for (const e of timeline) {
    if (e.phase === 'start') {
      if (open !== null) out.push(open);
      open = { f: e.f, value: e.value, startS: e.time / 1e9, endS };
    } else if (open !== null) {
      open.endS = e.time / 1e9;
      out.push(open);
      open = null;
    }
  }
  if (open !== null) out.push(open);
  return out;
}

interface Axis {
  x: (s: number) => number;
  endS: number;
}

function xAxis(endS: number): Axis {
  const span = Math.max(endS, 1e-3);
  return { x: (s) => M.left + (s / span) * (W - M.left - M.right), endS };
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function frame(ax: Axis, faults: FaultWindow[], yTicks: Array<[number, string]>, yLabel: string, body: string): string {
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  for (const f of faults) {
    const x0 = ax.x(f.startS);
    const x1 = Math.max(ax.x(f.endS), x0 + 1);
    parts.push(`<rect x="${x0.toFixed(1)}" y="${M.top}" width="${(x1 - x0).toFixed(1)}" height="${H - M.top - M.bottom}" fill="${FAULT_COLORS[f.f] ?? '#999'}" fill-opacity="0.18"><title>${esc(`${f.f} ${JSON.stringify(f.value)} ${f.startS.toFixed(1)}–${f.endS.toFixed(1)} s`)}</title></rect>`);
  }
  const bottom = H - M.bottom;
  parts.push(`<line x1="${M.left}" y1="${bottom}" x2="${W - M.right}" y2="${bottom}" stroke="#333"/><line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${bottom}" stroke="#333"/>`);
  const step = niceStep(ax.endS, 10);
  for (let s = 0; s <= ax.endS + 1e-9; s += step) {
    const x = ax.x(s);
    parts.push(`<line x1="${x.toFixed(1)}" y1="${bottom}" x2="${x.toFixed(1)}" y2="${bottom + 4}" stroke="#333"/><text x="${x.toFixed(1)}" y="${bottom + 15}" text-anchor="middle">${+s.toFixed(3)}</text>`);
  }
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 4}" text-anchor="middle">time (s)</text>`);
  for (const [y, label] of yTicks) {
    parts.push(`<line x1="${M.left - 4}" y1="${y.toFixed(1)}" x2="${W - M.right}" y2="${y.toFixed(1)}" stroke="#ddd"/><text x="${M.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${label}</text>`);
  }
  parts.push(`<text transform="translate(14 ${(M.top + bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  parts.push(body);
  parts.push('</svg>');
  return parts.join('\n');
}

/** Completions per second, per outcome, in buckets of bucketS. */
export function throughput(ops: PairedOp[], endS: number, bucketS: number): Record<'ok' | 'fail' | 'info', number[]> {
  const n = Math.max(1, Math.ceil(endS / bucketS));
  const out = { ok: new Array<number>(n).fill(0), fail: new Array<number>(n).fill(0), info: new Array<number>(n).fill(0) };
  for (const o of ops) {
    if (o.complete === undefined) continue;
    const b = Math.min(n - 1, Math.floor(o.complete.time / 1e9 / bucketS));
    out[o.type][b]! += 1 / bucketS;
  }
  return out;
}

function throughputSvg(ops: PairedOp[], ax: Axis, faults: FaultWindow[], bucketS: number): string {
  const t = throughput(ops, ax.endS, bucketS);
  const max = [...t.ok, ...t.fail, ...t.info].reduce((m, v) => Math.max(m, v), 1);
  const top = niceStep(max, 5) * Math.ceil(max / niceStep(max, 5));
  const y = (v: number) => H - M.bottom - (v / top) * (H - M.top - M.bottom);
  const ticks: Array<[number, string]> = [];
  for (let v = 0; v <= top + 1e-9; v += niceStep(max, 5)) ticks.push([y(v), String(+v.toFixed(2))]);
  const lines = (['ok', 'fail', 'info'] as const)
    .map((k) => {
      const pts = t[k].map((v, i) => `${ax.x((i + 0.5) * bucketS).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${COLORS[k]}" stroke-width="1.5" points="${pts}"><title>${k}</title></polyline>`;
    })
    .join('\n');
  return frame(ax, faults, ticks, 'completions / s', lines);
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function latencySvg(ops: PairedOp[], ax: Axis, faults: FaultWindow[], bucketS: number): string {
  const done = ops.filter((o) => o.complete !== undefined);
  const lat = (o: PairedOp) => Math.max(0.01, (o.complete!.time - o.invoke.time) / 1e6);
  const maxMs = done.reduce((m, o) => Math.max(m, lat(o)), 1);
  const lo = -2; // 0.01 ms
  const hi = Math.ceil(Math.log10(maxMs));
  const y = (ms: number) => H - M.bottom - ((Math.log10(ms) - lo) / (hi - lo)) * (H - M.top - M.bottom);
  const ticks: Array<[number, string]> = [];
  for (let e = lo; e <= hi; e++) ticks.push([y(10 ** e), String(10 ** e)]);
  const every = Math.max(1, Math.ceil(done.length / MAX_POINTS));
  const dots: string[] = [];
  done.forEach((o, i) => {
    // Every fail and info point is drawn; ok points are thinned past MAX_POINTS.
    if (o.type === 'ok' && i % every !== 0) return;
    dots.push(`<circle cx="${ax.x(o.invoke.time / 1e9).toFixed(1)}" cy="${y(lat(o)).toFixed(1)}" r="1.3" fill="${COLORS[o.type]}" fill-opacity="0.55"/>`);
  });
  const n = Math.max(1, Math.ceil(ax.endS / bucketS));
  const buckets: number[][] = Array.from({ length: n }, () => []);
  for (const o of done) if (o.type === 'ok') buckets[Math.min(n - 1, Math.floor(o.invoke.time / 1e9 / bucketS))]!.push(lat(o));
  for (const b of buckets) b.sort((a, c) => a - c);
  // A quantile line, broken where a bucket has no ok operation (nothing completed there).
  const qLine = (q: number, color: string, label: string) => {
    let d = '';
    let gap = true;
    buckets.forEach((b, i) => {
      if (b.length === 0) {
        gap = true;
        return;
      }
      d += `${gap ? 'M' : 'L'}${ax.x((i + 0.5) * bucketS).toFixed(1)},${y(quantile(b, q)).toFixed(1)} `;
      gap = false;
    });
    return `<path fill="none" stroke="${color}" stroke-width="1.5" d="${d.trim()}"><title>${label}</title></path>`;
  };
  return frame(ax, faults, ticks, 'latency (ms, log)', dots.join('') + '\n' + qLine(0.5, '#1f3b73', 'ok p50') + '\n' + qLine(0.99, '#7b2d8e', 'ok p99'));
}

function legend(faults: FaultWindow[]): string {
  const kinds = [...new Set(faults.map((f) => f.f))];
  const item = (color: string, label: string, shape: 'line' | 'box') =>
    `<span style="margin-right:14px"><span style="display:inline-block;width:14px;height:${shape === 'line' ? 3 : 12}px;background:${color};${shape === 'box' ? 'opacity:0.35;' : ''}vertical-align:middle"></span> ${esc(label)}</span>`;
  return (
    '<p>' +
    item(COLORS.ok!, 'ok', 'line') +
    item(COLORS.fail!, 'fail', 'line') +
    item(COLORS.info!, 'info', 'line') +
    item('#1f3b73', 'ok latency p50', 'line') +
    item('#7b2d8e', 'ok latency p99', 'line') +
    kinds.map((k) => item(FAULT_COLORS[k] ?? '#999', `${k} window`, 'box')).join('') +
    '</p>'
  );
}

function verdictsHtml(verdicts: Verdict[]): string {
  const rows = verdicts.map((v) => {
    const cls = v.valid === true ? 'valid' : v.valid === false ? 'invalid' : 'unknown';
    const stats = Object.entries(v.stats).map(([k, n]) => `${esc(k)}=${n}`).join(' ');
    const anomalies = v.anomalies
      .slice(0, 20)
      .map((a) => `<details><summary>${esc(a.kind)}${a.key ? ` <code>${esc(a.key)}</code>` : ''}: ${esc(a.message)}</summary><pre>${esc(JSON.stringify(a.ops ?? [], null, 1).slice(0, 20000))}</pre></details>`)
      .join('');
    return `<tr><td>${esc(v.checker)}</td><td class="${cls}">${cls}</td><td>${stats}${v.note ? `<br><i>${esc(v.note)}</i>` : ''}${anomalies}</td></tr>`;
  });
  return `<table><tr><th>checker</th><th>verdict</th><th>numbers, anomalies</th></tr>${rows.join('')}</table>`;
}

function timelineHtml(timeline: TimelineEntry[]): string {
  const rows = timeline.map((e) => `<tr><td>${(e.time / 1e9).toFixed(3)}</td><td>${e.phase}</td><td>${esc(e.f)}</td><td><code>${esc(JSON.stringify(e.value))}</code></td></tr>`);
  return `<table><tr><th>time (s)</th><th>phase</th><th>fault</th><th>details</th></tr>${rows.join('')}</table>`;
}

function logsHtml(dir: string, logs: string[]): string {
  return logs
    .map((rel) => {
      let text = '';
      try {
        text = fs.readFileSync(path.join(dir, rel), 'utf8');
      } catch {
        text = '(not found)';
      }
      const lines = text.split('\n');
      const tail = lines.slice(-80).join('\n');
      return `<details><summary><a href="${esc(rel)}">${esc(rel)}</a> (${lines.length} lines; the last 80)</summary><pre>${esc(tail)}</pre></details>`;
    })
    .join('');
}

export function renderReport(dir: string, r: ReportInput): string {
  const lastNs = Math.max(
    r.ops.reduce((m, o) => Math.max(m, o.complete?.time ?? o.invoke.time), 1),
    r.timeline.reduce((m, e) => Math.max(m, e.time), 1),
  );
  const endS = lastNs / 1e9;
  const ax = xAxis(endS);
  const faults = faultWindows(r.timeline, endS);
  const bucketS = Math.max(0.25, niceStep(endS, 120));
  const verdict = r.valid === true ? 'valid' : r.valid === false ? 'INVALID' : 'unknown';
  const meta = Object.entries(r.meta)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body { font-family: sans-serif; margin: 20px; color: #222; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; font-size: 13px; }
.valid { color: #2a9d4b; font-weight: bold; } .invalid { color: #d62728; font-weight: bold; } .unknown { color: #b07800; font-weight: bold; }
pre { background: #f6f6f6; padding: 6px; max-height: 400px; overflow: auto; font-size: 12px; }
</style></head><body>
<h1>${esc(r.title)}: <span class="${verdict.toLowerCase()}">${verdict}</span></h1>
<table>${meta}</table>
<h2>Throughput</h2>
${legend(faults)}
${throughputSvg(r.ops, ax, faults, bucketS)}
<h2>Latency</h2>
${latencySvg(r.ops, ax, faults, bucketS)}
<h2>Verdicts</h2>
${verdictsHtml(r.verdicts)}
<h2>Nemesis timeline</h2>
${timelineHtml(r.timeline)}
<h2>Node logs</h2>
${logsHtml(dir, r.logs)}
<p>Also in this folder: <a href="history.jsonl">history.jsonl</a>, <a href="verdicts.json">verdicts.json</a>, <a href="timeline.json">timeline.json</a>.</p>
</body></html>
`;
}

export function writeReport(dir: string, r: ReportInput): string {
  const file = path.join(dir, 'report.html');
  fs.writeFileSync(file, renderReport(dir, r));
  return file;
}
