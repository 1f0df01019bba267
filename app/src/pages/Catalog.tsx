// The GPU catalog: each model with its live idle / total nodes per region (from the chain,
// through the API, or read from the chain directly when the API does not answer), the market
// rate beside what paying in Calor costs.
import { useEffect, useMemo, useState } from 'react';

import type { GpuCatalog, GpuModelView } from '../api';
import { loadCatalog } from '../catalog';
import { usd } from '../format';

type SortKey = 'name' | 'vramGb' | 'fp16Tflops' | 'idleNodes' | 'rate';


export function Catalog() {
  const [catalog, setCatalog] = useState<GpuCatalog | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fromChain, setFromChain] = useState(false);
  const [region, setRegion] = useState('any');
  const [onlyIdle, setOnlyIdle] = useState(false);
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; up: boolean }>({ key: 'rate', up: true });

  useEffect(() => {
    let live = true;
    const load = async () => {
      const loaded = await loadCatalog();
      if (!live) return;
      if (loaded.catalog) setCatalog(loaded.catalog);
      setFromChain(loaded.catalog != null && loaded.apiProblem != null);
      setError(loaded.error);
    };
    void load();
    const every = window.setInterval(load, 5000);
    return () => {
      live = false;
      window.clearInterval(every);
    };
  }, []);

  const regions = useMemo(() => {
    const seen = new Map<string, string>();
    for (const m of catalog?.models ?? []) for (const r of m.regions) seen.set(r.code, r.name);
    return [...seen.entries()];
  }, [catalog]);

  const rows = useMemo(() => {
    const idleIn = (m: GpuModelView) =>
      region === 'any' ? m.idleNodes : (m.regions.find((r) => r.code === region)?.idleNodes ?? 0);
    const value = (m: GpuModelView): number | string =>
      sort.key === 'rate' ? (m.rate?.marketUsdPerHour ?? Infinity) : sort.key === 'idleNodes' ? idleIn(m) : m[sort.key];
    return (catalog?.models ?? [])
      .filter((m) => m.active)
      .filter((m) => m.name.toLowerCase().includes(query.toLowerCase()))
      .filter((m) => !onlyIdle || idleIn(m) > 0)
      .filter((m) => region === 'any' || m.regions.some((r) => r.code === region))
      .sort((a, b) => {
        const [x, y] = [value(a), value(b)];
        const order = x < y ? -1 : x > y ? 1 : 0;
        return sort.up ? order : -order;
      });
  }, [catalog, region, onlyIdle, query, sort]);

  const header = (key: SortKey, label: string) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.up ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="sort" onClick={() => setSort({ key, up: sort.key === key ? !sort.up : true })}>
        {label}
      </button>
    </th>
  );

  return (
    <section aria-labelledby="catalog-title">
      <h1 id="catalog-title">Rent a GPU</h1>
      <p className="lead">
        Live from the chain: idle nodes can start your job now. Billing starts when the instance is running, and the
        unused time is refunded. Minimum rental {usd(catalog?.minimumRentalUsd)}.
      </p>
      {fromChain && (
        <p role="status" data-testid="catalog-from-chain">
          The API is not answering: availability and rates are read from the chain directly.
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          The catalog could not be loaded: {error}
        </p>
      )}
      <div className="filters">
        <label>
          Model <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="H100, A100…" />
        </label>
        <label>
          Region
          <select value={region} onChange={(e) => setRegion(e.target.value)}>
            <option value="any">Any region</option>
            {regions.map(([code, name]) => (
              <option key={code} value={code}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={onlyIdle} onChange={(e) => setOnlyIdle(e.target.checked)} /> Available now
        </label>
      </div>
      <div className="table-wrap">
        <table aria-label="GPU models">
          <thead>
            <tr>
              {header('name', 'Model')}
              {header('vramGb', 'VRAM')}
              {header('fp16Tflops', 'FP16 TFLOPS')}
              {header('idleNodes', 'Available')}
              {header('rate', 'Market $/h')}
              <th scope="col">With Calor $/h</th>
              <th scope="col">Regions</th>
              <th scope="col">
                <span className="visually-hidden">Rent</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <tr key={m.id} data-gpu={m.id}>
                <th scope="row">
                  {m.name}
                  <span className="muted"> {m.architecture}</span>
                </th>
                <td data-label="VRAM">{m.vramGb} GB</td>
                <td data-label="FP16 TFLOPS">{m.fp16Tflops}</td>
                <td data-label="Available">
                  <span className={m.idleNodes > 0 ? 'badge ok' : 'badge'}>
                    {m.idleNodes} idle / {m.totalNodes}
                  </span>
                </td>
                <td data-label="Market $/h">{usd(m.rate?.marketUsdPerHour)}</td>
                <td data-label="With Calor $/h">{usd(m.rate?.calorUsdPerHour)}</td>
                <td data-label="Regions">
                  {m.regions
                    .filter((r) => r.totalNodes > 0)
                    .map((r) => (
                      <span key={r.code} className="region">
                        {r.name}: {r.idleNodes} idle / {r.totalNodes}
                      </span>
                    ))}
                  {m.totalNodes === 0 && <span className="region">No node online</span>}
                </td>
                <td>
                  <a className="button" href={`#/rent/${m.id}`} aria-label={`Rent ${m.name}`}>
                    Rent
                  </a>
                </td>
              </tr>
            ))}
            {catalog && rows.length === 0 && (
              <tr>
                <td colSpan={8}>No GPU matches: clear a filter, or wait for a node to come back online.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {catalog && (
        <p className="muted small">
          SOL/USD {usd(catalog.solUsd)} (Pyth) · Calor/USD {catalog.calorUsd?.toFixed(4) ?? '—'}
        </p>
      )}
    </section>
  );
}
