// The network: nodes, GPUs busy / total, utilisation, PFLOPS, burn and volume now (the API's
// live view of the chain), and hour by hour over the last day (from its index): GPU-hours
// rented, jobs opened, Calor burned.
import { useEffect, useState } from 'react';

import { api, problemText, type Schemas } from '../api';
import { HourlyChart } from '../charts/HourlyChart';
import { units, usd, wholeCalor } from '../format';

type Network = Schemas['Network'];
type HistoryPoint = Schemas['HistoryPoint'];

export function Network({ theme }: { theme: string }) {
  const [now, setNow] = useState<Network | null>(null);
  const [history, setHistory] = useState<HistoryPoint[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const load = async () => {
      const [n, h] = await Promise.all([api.GET('/api/network'), api.GET('/api/network/history', { params: { query: { hours: 24 } } })]);
      if (!live) return;
      if (n.data) setNow(n.data);
      if (h.data) setHistory(h.data);
      const failed = !n.data ? n : !h.data ? h : null;
      setError(failed ? problemText(failed.error, failed.response) : null);
    };
    void load();
    const every = window.setInterval(() => void load(), 10_000);
    return () => {
      live = false;
      window.clearInterval(every);
    };
  }, []);

  const hours = history?.map((p) => p.at) ?? [];
  return (
    <section aria-labelledby="network-title">
      <h1 id="network-title">Network</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {now && (
        <dl className="stats" data-testid="network-now">
          <div>
            <dt>Nodes online</dt>
            <dd>
              {now.nodesOnline} of {now.nodesTotal}
            </dd>
          </div>
          <div>
            <dt>GPUs busy</dt>
            <dd data-testid="gpus-busy">
              {now.gpusBusy} of {now.gpusOnline}
            </dd>
          </div>
          <div>
            <dt>Utilisation</dt>
            <dd>{(now.utilisation * 100).toFixed(0)}%</dd>
          </div>
          <div>
            <dt>Compute online</dt>
            <dd>{now.pflopsOnline.toFixed(2)} PFLOPS (FP16)</dd>
          </div>
          <div>
            <dt>Calor burned, all time</dt>
            <dd data-testid="total-burned">{units(now.totalBurned, 'Calor base units')}</dd>
          </div>
          <div>
            <dt>Paid, last 24 h</dt>
            <dd>{usd(now.volume24hUsd)}</dd>
          </div>
        </dl>
      )}
      {history && (
        <div className="charts">
          <HourlyChart
            theme={theme}
            series={{ title: 'GPU-hours rented', unit: 'GPU-hours', hours, values: history.map((p) => p.busyGpuHours), digits: 3 }}
          />
          <HourlyChart theme={theme} series={{ title: 'Jobs opened', unit: 'jobs', hours, values: history.map((p) => p.jobsOpened) }} />
          <HourlyChart
            theme={theme}
            series={{ title: 'Calor burned', unit: 'Calor', hours, values: history.map((p) => wholeCalor(p.burned)), digits: 6 }}
          />
        </div>
      )}
    </section>
  );
}
