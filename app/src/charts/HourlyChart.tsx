// One hourly series as a small uPlot chart, in the theme's colours, with the same figures in
// a table for screen readers (a canvas says nothing to them).
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export type HourlySeries = {
  title: string;
  unit: string;
  /** Hour starts, unix seconds. */
  hours: number[];
  values: number[];
  /** Digits after the point in the table. */
  digits?: number;
};

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

export function HourlyChart({ series, theme }: { series: HourlySeries; theme: string }) {
  const holder = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const accent = css('--accent');
    const muted = css('--muted');
    const line = css('--line');
    const axis = { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
    const plot = new uPlot(
      {
        width: Math.max(240, el.clientWidth),
        height: 180,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
        axes: [axis, { ...axis, size: 56 }],
        series: [{}, { label: series.title, stroke: accent, fill: `${accent}33`, width: 2, paths: uPlot.paths.stepped?.({ align: 1 }) }],
      },
      [series.hours, series.values],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [series, theme]);

  const total = series.values.reduce((a, b) => a + b, 0);
  const digits = series.digits ?? 0;
  return (
    <figure className="chart">
      <figcaption>
        <strong>{series.title}</strong>{' '}
        <span className="muted">
          {total.toFixed(digits)} {series.unit} over {series.hours.length} h
        </span>
      </figcaption>
      <div ref={holder} aria-hidden="true" />
      <table className="visually-hidden">
        <caption>{series.title}, by hour</caption>
        <thead>
          <tr>
            <th scope="col">Hour</th>
            <th scope="col">{series.unit}</th>
          </tr>
        </thead>
        <tbody>
          {series.hours.map((h, i) => (
            <tr key={h}>
              <td>{new Date(h * 1000).toLocaleString()}</td>
              <td>{series.values[i].toFixed(digits)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
