// Small helpers for hand-written inline SVG plots: escaping, scales, axes and ticks. The report
// must open offline, so there is no plotting library.

/** Escapes text for HTML/SVG content and attribute values (node-provided strings included). */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A round step (1, 2 or 5 × 10^k) giving about `targetCount` intervals over `span`. */
export function niceStep(span: number, targetCount: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, targetCount);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalised = raw / magnitude;
  const factor = normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10;
  return factor * magnitude;
}

export function formatTick(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000 || abs < 0.01) return value.toExponential(0).replace('e+', 'e');
  return String(Number(value.toPrecision(3)));
}

export interface PlotFrame {
  widthPx: number;
  heightPx: number;
  leftPx: number;
  rightPx: number;
  topPx: number;
  bottomPx: number;
  xMax: number;
  yMin: number;
  yMax: number;
  logY: boolean;
}

export function makeFrame(
  xMax: number,
  yMin: number,
  yMax: number,
  logY: boolean,
  widthPx = 1100,
  heightPx = 380,
): PlotFrame {
  return { widthPx, heightPx, leftPx: 70, rightPx: 190, topPx: 34, bottomPx: 46, xMax: xMax > 0 ? xMax : 1, yMin, yMax, logY };
}

export function plotWidth(frame: PlotFrame): number {
  return frame.widthPx - frame.leftPx - frame.rightPx;
}

export function plotHeight(frame: PlotFrame): number {
  return frame.heightPx - frame.topPx - frame.bottomPx;
}

export function xPx(frame: PlotFrame, x: number): number {
  return frame.leftPx + (x / frame.xMax) * plotWidth(frame);
}

export function yPx(frame: PlotFrame, y: number): number {
  let fraction: number;
  if (frame.logY) {
    const low = Math.log10(frame.yMin);
    const high = Math.log10(frame.yMax);
    fraction = (Math.log10(Math.max(y, frame.yMin)) - low) / (high - low || 1);
  } else {
    fraction = (y - frame.yMin) / (frame.yMax - frame.yMin || 1);
  }
  return frame.topPx + (1 - fraction) * plotHeight(frame);
}

export function px(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function yTicks(frame: PlotFrame): number[] {
  if (frame.logY) {
    const ticks: number[] = [];
    for (let exp = Math.ceil(Math.log10(frame.yMin)); 10 ** exp <= frame.yMax * 1.0001; exp++) ticks.push(10 ** exp);
    return ticks;
  }
  const step = niceStep(frame.yMax - frame.yMin, 6);
  const ticks: number[] = [];
  for (let tick = Math.ceil(frame.yMin / step) * step; tick <= frame.yMax + step * 1e-9; tick += step) ticks.push(tick);
  return ticks;
}

/** Frame, grid, ticks, axis labels and title. */
export function axes(frame: PlotFrame, title: string, xLabel: string, yLabel: string): string {
  const parts: string[] = [];
  const left = frame.leftPx;
  const right = frame.leftPx + plotWidth(frame);
  const top = frame.topPx;
  const bottom = frame.topPx + plotHeight(frame);
  const xStep = niceStep(frame.xMax, 10);
  for (let tick = 0; tick <= frame.xMax + xStep * 1e-9; tick += xStep) {
    const x = px(xPx(frame, tick));
    parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" class="grid"/>`);
    parts.push(`<text x="${x}" y="${bottom + 16}" text-anchor="middle" class="tick">${formatTick(tick)}</text>`);
  }
  for (const tick of yTicks(frame)) {
    const y = px(yPx(frame, tick));
    parts.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${y}" dy="4" text-anchor="end" class="tick">${formatTick(tick)}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${px(plotWidth(frame))}" height="${px(plotHeight(frame))}" class="frame"/>`);
  parts.push(`<text x="${left}" y="20" class="title">${escapeXml(title)}</text>`);
  parts.push(`<text x="${px((left + right) / 2)}" y="${bottom + 36}" text-anchor="middle" class="label">${escapeXml(xLabel)}</text>`);
  parts.push(
    `<text transform="translate(16 ${px((top + bottom) / 2)}) rotate(-90)" text-anchor="middle" class="label">${escapeXml(yLabel)}</text>`,
  );
  return parts.join('');
}

/** Shaded bands for intervals (in x units), drawn under the data. */
export type FaultKind = 'partition' | 'kill' | 'pause';

const FAULT_TITLES: Record<FaultKind, string> = { partition: 'network partition', kill: 'nodes killed', pause: 'nodes paused' };

/** Shaded spans of the plot for faults (partitions, kills, pauses). */
export function bands(frame: PlotFrame, intervals: ReadonlyArray<{ from: number; to: number; kind?: FaultKind }>): string {
  return intervals
    .map(({ from, to, kind = 'partition' }) => {
      const x1 = xPx(frame, Math.max(0, from));
      const x2 = xPx(frame, Math.min(frame.xMax, to));
      return `<rect x="${px(x1)}" y="${frame.topPx}" width="${px(Math.max(1, x2 - x1))}" height="${px(plotHeight(frame))}" class="${kind}"><title>${FAULT_TITLES[kind]}</title></rect>`;
    })
    .join('');
}

export interface LegendEntry {
  label: string;
  /** an SVG fragment drawn centred on (0, 0) */
  swatch: string;
}

export function legend(frame: PlotFrame, entries: LegendEntry[]): string {
  const x = frame.leftPx + plotWidth(frame) + 16;
  return entries
    .map((entry, i) => {
      const y = frame.topPx + 8 + i * 17;
      return `<g transform="translate(${px(x)} ${y})">${entry.swatch}<text x="14" y="4" class="legend">${escapeXml(entry.label)}</text></g>`;
    })
    .join('');
}

export function svgOpen(frame: PlotFrame, id: string): string {
  return `<svg id="${escapeXml(id)}" xmlns="http://www.w3.org/2000/svg" width="${frame.widthPx}" height="${frame.heightPx}" viewBox="0 0 ${frame.widthPx} ${frame.heightPx}">`;
}

/** A marker shape for series number `index`, centred on (x, y). */
export function marker(index: number, x: number, y: number, colour: string, sizePx = 3): string {
  const s = sizePx;
  const X = px(x);
  const Y = px(y);
  switch (index % 4) {
    case 0:
      return `<circle cx="${X}" cy="${Y}" r="${s}" fill="${colour}"/>`;
    case 1:
      return `<rect x="${px(x - s)}" y="${px(y - s)}" width="${2 * s}" height="${2 * s}" fill="${colour}"/>`;
    case 2:
      return `<path d="M${X} ${px(y - s - 1)}L${px(x + s + 1)} ${px(y + s)}L${px(x - s - 1)} ${px(y + s)}Z" fill="${colour}"/>`;
    default:
      return `<path d="M${X} ${px(y - s - 1)}L${px(x + s + 1)} ${Y}L${X} ${px(y + s + 1)}L${px(x - s - 1)} ${Y}Z" fill="${colour}"/>`;
  }
}

const DASHES = ['', '7 4', '2 3', '10 3 2 3'];

export function dashFor(index: number): string {
  const dash = DASHES[index % DASHES.length] ?? '';
  return dash ? ` stroke-dasharray="${dash}"` : '';
}
