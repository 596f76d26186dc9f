/**
 * A small SVG chart generator, no dependencies: horizontal bar charts in panels (one scale per
 * panel) and line charts with linear or logarithmic axes. Output is a standalone SVG document.
 *
 * @module
 */

import { defined } from "./defined.ts";

/** Colour-blind-safe colours (Okabe–Ito), in series order. */
export const PALETTE = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#D55E00",
  "#CC79A7",
  "#56B4E9",
  "#000000",
  "#F0E442",
];

const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/** Escapes text for XML. */
export function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** Rough text width in pixels (the renderer's font is unknown; good enough for layout). */
function textWidth(text: string, size: number): number {
  return text.length * size * 0.56;
}

const round = (x: number) => Math.round(x * 10) / 10;

function text(
  x: number,
  y: number,
  content: string,
  options: { size?: number; anchor?: "start" | "middle" | "end"; weight?: string; fill?: string } =
    {},
): string {
  const { size = 12, anchor = "start", weight = "normal", fill = "#222" } = options;
  return `<text x="${round(x)}" y="${round(y)}" font-size="${size}" text-anchor="${anchor}" ` +
    `font-weight="${weight}" fill="${fill}">${escapeXml(content)}</text>`;
}

/** "Nice" axis ticks from 0 to at least `max`. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Formats a tick value compactly: 1,500 → "1.5k", 0.25 → "0.25". */
export function compact(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e3) return `${Number((value / 1e3).toPrecision(3))}k`;
  if (abs >= 1) return `${Number(value.toPrecision(3))}`;
  return `${Number(value.toPrecision(2))}`;
}

/** One bar. */
export interface Bar {
  /** The series it belongs to (colour and legend). */
  series: string;
  /** Its value. */
  value: number;
  /** Text after the bar; the value by default. */
  label?: string;
}

/** A panel of bars sharing one scale. */
export interface BarPanel {
  /** The panel's heading. */
  title: string;
  /** Its bars, top to bottom. */
  bars: Bar[];
}

/** Options of {@linkcode barChart}. */
export interface BarChartOptions {
  /** The chart's title. */
  title: string;
  /** A line under the title. */
  subtitle?: string;
  /** The axis caption, such as "save+load per second". */
  axisLabel: string;
  /** The panels, top to bottom. */
  panels: BarPanel[];
  /** Width in pixels (default 760). */
  width?: number;
}

/** Horizontal bars in panels, each panel on its own scale starting at zero. */
export function barChart(options: BarChartOptions): string {
  const width = options.width ?? 760;
  const series = [...new Set(options.panels.flatMap((p) => p.bars.map((b) => b.series)))];
  const colour = (name: string) => PALETTE[series.indexOf(name) % PALETTE.length];
  const barHeight = 20;
  const gap = 6;
  const nameWidth = Math.min(
    300,
    Math.max(...series.map((s) => textWidth(s, 12))) + 16,
  );
  const labelRoom = Math.max(
    90,
    ...options.panels.flatMap((p) => p.bars.map((b) => textWidth(b.label ?? compact(b.value), 11))),
  ) + 10;
  const left = 20 + nameWidth;
  const plotWidth = width - left - labelRoom - 20;
  const parts: string[] = [];
  let y = 30;
  parts.push(text(20, y, options.title, { size: 16, weight: "bold" }));
  if (options.subtitle) {
    y += 20;
    parts.push(text(20, y, options.subtitle, { size: 12, fill: "#555" }));
  }
  y += 14;
  for (const panel of options.panels) {
    y += 24;
    parts.push(text(20, y, panel.title, { size: 13, weight: "bold" }));
    y += 10;
    const max = Math.max(...panel.bars.map((b) => b.value));
    const ticks = niceTicks(max);
    const top = defined(ticks.at(-1), "the top tick of an axis");
    const scale = (v: number) => left + (v / top) * plotWidth;
    const panelTop = y;
    const panelHeight = panel.bars.length * (barHeight + gap) + gap;
    for (const tick of ticks) {
      const x = scale(tick);
      parts.push(
        `<line x1="${round(x)}" y1="${panelTop}" x2="${round(x)}" y2="${
          panelTop + panelHeight
        }" stroke="#e3e3e3" />`,
      );
      parts.push(
        text(x, panelTop + panelHeight + 14, compact(tick), {
          size: 10,
          anchor: "middle",
          fill: "#666",
        }),
      );
    }
    panel.bars.forEach((bar, i) => {
      const barTop = panelTop + gap + i * (barHeight + gap);
      const w = Math.max(1, scale(bar.value) - left);
      parts.push(text(left - 8, barTop + 14, bar.series, { anchor: "end" }));
      parts.push(
        `<rect x="${left}" y="${barTop}" width="${round(w)}" height="${barHeight}" fill="${
          colour(bar.series)
        }" rx="2" />`,
      );
      parts.push(
        text(left + w + 6, barTop + 14, bar.label ?? compact(bar.value), { size: 11 }),
      );
    });
    parts.push(
      `<line x1="${left}" y1="${panelTop}" x2="${left}" y2="${
        panelTop + panelHeight
      }" stroke="#999" />`,
    );
    y = panelTop + panelHeight + 18;
  }
  y += 6;
  parts.push(
    text(left + plotWidth / 2, y + 8, options.axisLabel, {
      size: 11,
      anchor: "middle",
      fill: "#444",
    }),
  );
  const height = Math.ceil(y + 24);
  return svgDocument(width, height, parts);
}

/** One line of a line chart. */
export interface Series {
  /** Its legend name. */
  name: string;
  /** Its points, in x order. */
  points: { x: number; y: number }[];
}

/** Options of {@linkcode lineChart}. */
export interface LineChartOptions {
  /** The chart's title. */
  title: string;
  /** A line under the title. */
  subtitle?: string;
  /** The x axis caption. */
  xLabel: string;
  /** The y axis caption. */
  yLabel: string;
  /** The lines. */
  series: Series[];
  /** Logarithmic x axis. */
  xLog?: boolean;
  /** Logarithmic y axis. */
  yLog?: boolean;
  /** How to print an x tick. */
  xFormat?: (x: number) => string;
  /** Width in pixels (default 760). */
  width?: number;
  /** Height in pixels (default 500). */
  height?: number;
}

/** Ticks of a log axis: powers of ten (plus 2 and 5 when the range is narrow). */
function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const ticks: number[] = [];
  const multipliers = hi - lo <= 3 ? [1, 2, 5] : [1];
  for (let e = lo; e <= hi; e++) {
    for (const m of multipliers) {
      const v = m * 10 ** e;
      if (v >= min / 1.0001 && v <= max * 1.0001) ticks.push(Number(v.toPrecision(6)));
    }
  }
  return ticks;
}

/** Lines with markers, a legend below, linear or log axes. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 500;
  const legendRows = Math.ceil(options.series.length / 2);
  const margin = {
    left: 70,
    right: 30,
    top: options.subtitle ? 70 : 50,
    bottom: 64 + legendRows * 20,
  };
  const plot = {
    x: margin.left,
    y: margin.top,
    w: width - margin.left - margin.right,
    h: height - margin.top - margin.bottom,
  };
  const xs = options.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = options.series.flatMap((s) => s.points.map((p) => p.y)).filter((v) => v > 0);
  const axis = (values: number[], log: boolean | undefined) => {
    if (log) {
      const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
      const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
      return {
        ticks: logTicks(lo, hi),
        map: (v: number) => (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)),
      };
    }
    const ticks = niceTicks(Math.max(...values));
    const top = defined(ticks.at(-1), "the top tick of an axis");
    return { ticks, map: (v: number) => v / top };
  };
  const xAxis = axis(xs, options.xLog);
  const yAxis = axis(ys, options.yLog);
  const px = (x: number) => plot.x + xAxis.map(x) * plot.w;
  const py = (y: number) => plot.y + plot.h - yAxis.map(y) * plot.h;
  const xFormat = options.xFormat ?? compact;
  const parts: string[] = [];
  parts.push(text(20, 30, options.title, { size: 16, weight: "bold" }));
  if (options.subtitle) parts.push(text(20, 50, options.subtitle, { size: 12, fill: "#555" }));
  for (const tick of yAxis.ticks) {
    const y = py(tick);
    parts.push(
      `<line x1="${plot.x}" y1="${round(y)}" x2="${plot.x + plot.w}" y2="${
        round(y)
      }" stroke="#e3e3e3" />`,
    );
    parts.push(text(plot.x - 8, y + 4, compact(tick), { size: 10, anchor: "end", fill: "#666" }));
  }
  for (const tick of xAxis.ticks) {
    const x = px(tick);
    parts.push(
      `<line x1="${round(x)}" y1="${plot.y}" x2="${round(x)}" y2="${
        plot.y + plot.h
      }" stroke="#eeeeee" />`,
    );
    parts.push(
      text(x, plot.y + plot.h + 16, xFormat(tick), { size: 10, anchor: "middle", fill: "#666" }),
    );
  }
  parts.push(
    `<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="#999" />`,
  );
  parts.push(
    text(plot.x + plot.w / 2, plot.y + plot.h + 34, options.xLabel, {
      size: 11,
      anchor: "middle",
      fill: "#444",
    }),
  );
  const yMid = plot.y + plot.h / 2;
  parts.push(
    `<text x="18" y="${round(yMid)}" font-size="11" text-anchor="middle" fill="#444" ` +
      `transform="rotate(-90 18 ${round(yMid)})">${escapeXml(options.yLabel)}</text>`,
  );
  options.series.forEach((series, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const points = series.points.filter((p) => p.y > 0 || !options.yLog);
    const path = points.map((p, k) => `${k === 0 ? "M" : "L"}${round(px(p.x))},${round(py(p.y))}`)
      .join(" ");
    parts.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2" />`);
    for (const p of points) {
      parts.push(
        `<circle cx="${round(px(p.x))}" cy="${round(py(p.y))}" r="3.5" fill="${colour}" />`,
      );
    }
    const ly = plot.y + plot.h + 58 + Math.floor(i / 2) * 20;
    const lx = plot.x + (i % 2) * (plot.w / 2);
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${
        lx + 18
      }" y2="${ly}" stroke="${colour}" stroke-width="2" />`,
    );
    parts.push(`<circle cx="${lx + 9}" cy="${ly}" r="3.5" fill="${colour}" />`);
    parts.push(text(lx + 24, ly + 4, series.name, { size: 12 }));
  });
  return svgDocument(width, height, parts);
}

function svgDocument(width: number, height: number, parts: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff" />`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}
