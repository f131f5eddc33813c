/**
 * Small inline-SVG charts for the HTML report (no library, no CDN: the report must open offline).
 * Each function returns a self-contained <svg> string.
 */

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const W = 720;
const H = 300;
const M = { top: 16, right: 16, bottom: 44, left: 64 };

interface Scale {
  (v: number): number;
  ticks: number[];
}

/** "Nice" ticks: steps of 1, 2 or 5 × 10^k. */
function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function linear(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain[1] > domain[0] ? domain : [domain[0], domain[0] + 1];
  const f = ((v: number) => range[0] + ((v - d0) / (d1 - d0)) * (range[1] - range[0])) as Scale;
  f.ticks = niceTicks(d0, d1);
  return f;
}

function logScale(domain: [number, number], range: [number, number]): Scale {
  const lo = Math.log10(Math.max(domain[0], 1e-6));
  const hi = Math.max(lo + 1e-9, Math.log10(Math.max(domain[1], domain[0] * 10, 1e-6)));
  const f = ((v: number) => range[0] + ((Math.log10(Math.max(v, 1e-6)) - lo) / (hi - lo)) * (range[1] - range[0])) as Scale;
  f.ticks = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) for (const m of [1, 2, 5]) if (m * 10 ** e >= 10 ** lo * 0.999 && m * 10 ** e <= 10 ** hi * 1.001) f.ticks.push(m * 10 ** e);
  return f;
}

function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  if (a >= 1 || a === 0) return String(Number(v.toPrecision(4)));
  return String(Number(v.toPrecision(2)));
}

function frame(x: Scale | null, y: Scale, xLabel: string, yLabel: string): string {
  const parts: string[] = [];
  for (const t of y.ticks) {
    const py = y(t);
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py}" y2="${py}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${M.left - 6}" y="${py + 4}" text-anchor="end" font-size="11" fill="#374151">${tickLabel(t)}</text>`);
  }
  if (x) {
    for (const t of x.ticks) {
      const px = x(t);
      parts.push(`<line x1="${px}" x2="${px}" y1="${H - M.bottom}" y2="${H - M.bottom + 4}" stroke="#6b7280"/>`);
      parts.push(`<text x="${px}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11" fill="#374151">${tickLabel(t)}</text>`);
    }
  }
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#6b7280"/>`);
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#6b7280"/>`);
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle" font-size="12" fill="#111827">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#111827">${esc(yLabel)}</text>`);
  return parts.join('');
}

function legend(labels: string[]): string {
  return `<div class="legend">${labels
    .map((l, i) => `<span><i style="background:${PALETTE[i % PALETTE.length]}"></i>${esc(l)}</span>`)
    .join('')}</div>`;
}

function svg(body: string, title: string): string {
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">${body}</svg>`;
}

export interface LineSeries {
  label: string;
  points: { t: number; value: number }[];
}

export function lineChart(opts: { title: string; series: LineSeries[]; xLabel?: string; yLabel: string; log?: boolean }): string {
  const series = opts.series.filter((s) => s.points.length > 0);
  if (series.length === 0) return `<p class="empty">No data for “${esc(opts.title)}”.</p>`;
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.value) && Number.isFinite(p.t));
  const xs = all.map((p) => p.t);
  const ys = all.map((p) => p.value);
  const x = linear([Math.min(...xs), Math.max(...xs)], [M.left, W - M.right]);
  const yMax = Math.max(...ys) * 1.08 || 1;
  const y = opts.log
    ? logScale([Math.max(Math.min(...ys.filter((v) => v > 0)) / 1.5, 1e-3), yMax], [H - M.bottom, M.top])
    : linear([0, yMax], [H - M.bottom, M.top]);
  const paths = series.map((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.value) && (!opts.log || p.value > 0));
    const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.value).toFixed(1)}`).join('');
    const color = PALETTE[i % PALETTE.length];
    const dots = pts.length <= 24 ? pts.map((p) => `<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="2.5" fill="${color}"/>`).join('') : '';
    return `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"/>${dots}`;
  });
  return svg(frame(x, y, opts.xLabel ?? 'seconds', opts.yLabel) + paths.join(''), opts.title) + legend(series.map((s) => s.label));
}

export interface BarGroup {
  label: string;
  values: { name: string; value: number }[];
}

/** Grouped vertical bars (e.g. p50/p90/p99 per figure). */
export function barChart(opts: { title: string; groups: BarGroup[]; yLabel: string; log?: boolean }): string {
  const groups = opts.groups.filter((g) => g.values.some((v) => Number.isFinite(v.value)));
  if (groups.length === 0) return `<p class="empty">No data for “${esc(opts.title)}”.</p>`;
  const names = [...new Set(groups.flatMap((g) => g.values.map((v) => v.name)))];
  const ys = groups.flatMap((g) => g.values.map((v) => v.value)).filter((v) => Number.isFinite(v) && v > 0);
  const yMax = Math.max(...ys) * 1.1;
  const y = opts.log ? logScale([Math.min(...ys) / 2, yMax], [H - M.bottom - 60, M.top]) : linear([0, yMax], [H - M.bottom - 60, M.top]);
  const base = H - M.bottom - 60;
  const slot = (W - M.left - M.right) / groups.length;
  const barW = Math.max(2, (slot * 0.8) / names.length);
  const parts: string[] = [];
  for (const t of y.ticks) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11" fill="#374151">${tickLabel(t)}</text>`);
  }
  groups.forEach((g, gi) => {
    const x0 = M.left + gi * slot + slot * 0.1;
    g.values.forEach((v) => {
      if (!Number.isFinite(v.value) || v.value <= 0) return;
      const ni = names.indexOf(v.name);
      const top = y(v.value);
      parts.push(
        `<rect x="${(x0 + ni * barW).toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${Math.max(0, base - top).toFixed(1)}" fill="${PALETTE[ni % PALETTE.length]}"><title>${esc(`${g.label} ${v.name}: ${tickLabel(v.value)}`)}</title></rect>`,
      );
    });
    const cx = x0 + (slot * 0.8) / 2;
    // Rotated to the lower left, so the last group's label stays inside the picture.
    parts.push(`<text transform="translate(${(cx + 4).toFixed(1)} ${base + 10}) rotate(-35)" text-anchor="end" font-size="10" fill="#374151">${esc(g.label)}</text>`);
  });
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${base}" y2="${base}" stroke="#6b7280"/>`);
  parts.push(`<text transform="translate(14 ${(M.top + base) / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#111827">${esc(opts.yLabel)}</text>`);
  return svg(parts.join(''), opts.title) + legend(names);
}

/** Every sample as a dot (deterministic jitter), with a bar at each group's median. */
export function stripChart(opts: { title: string; groups: { label: string; values: number[] }[]; yLabel: string; log?: boolean }): string {
  const groups = opts.groups.filter((g) => g.values.length > 0);
  if (groups.length === 0) return `<p class="empty">No data for “${esc(opts.title)}”.</p>`;
  const ys = groups.flatMap((g) => g.values);
  const y = opts.log ? logScale([Math.min(...ys) / 1.5, Math.max(...ys) * 1.2], [H - M.bottom, M.top]) : linear([0, Math.max(...ys) * 1.1], [H - M.bottom, M.top]);
  const slot = (W - M.left - M.right) / groups.length;
  const parts = [frame(null, y, '', opts.yLabel)];
  groups.forEach((g, gi) => {
    const cx = M.left + slot * (gi + 0.5);
    const color = PALETTE[gi % PALETTE.length];
    g.values.forEach((v, i) => {
      const jitter = (((i * 7919) % 97) / 97 - 0.5) * slot * 0.5;
      parts.push(`<circle cx="${(cx + jitter).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}" fill-opacity="0.6"><title>${tickLabel(v)}</title></circle>`);
    });
    const sorted = [...g.values].sort((a, b) => a - b);
    const med = sorted[Math.floor(sorted.length / 2)] as number;
    parts.push(`<line x1="${cx - slot * 0.3}" x2="${cx + slot * 0.3}" y1="${y(med)}" y2="${y(med)}" stroke="#111827" stroke-width="2"/>`);
    parts.push(`<text x="${cx}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11" fill="#374151">${esc(g.label)}</text>`);
  });
  return svg(parts.join(''), opts.title);
}

/** A horizontal bar inside a table cell, for shares (0..1). */
export function inlineBar(fraction: number, color = PALETTE[0] as string): string {
  const w = Math.max(0, Math.min(1, fraction)) * 120;
  return `<svg width="124" height="10" xmlns="http://www.w3.org/2000/svg"><rect width="${w.toFixed(1)}" height="10" fill="${color}"/></svg>`;
}
