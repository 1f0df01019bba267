// The signed-in wallet's jobs, newest first, filtered by status and by the region they are pinned to.
import { useEffect, useState } from 'react';

import { api, problemText, type Schemas } from '../api';
import { useSession } from '../session';

const STATUSES = ['all', 'queued', 'provisioning', 'running', 'completed', 'failed', 'cancelled'] as const;

export function Jobs() {
  const { signedIn } = useSession();
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('all');
  const [region, setRegion] = useState('');
  const [regions, setRegions] = useState<{ id: number; name: string }[]>([]);
  const [page, setPage] = useState<Schemas['JobPage'] | null>(null);
  const [error, setError] = useState<string | null>(null);

  // the regions the catalog knows, to filter by
  useEffect(() => {
    void api.GET('/api/gpus').then(({ data }) => {
      const byId = new Map<number, string>();
      for (const m of data?.models ?? []) for (const r of m.regions) byId.set(r.id, r.name);
      setRegions([...byId].map(([id, name]) => ({ id, name })).sort((a, b) => a.id - b.id));
    });
  }, []);

  useEffect(() => {
    if (!signedIn) return;
    let live = true;
    void (async () => {
      const { data, error: e, response } = await api.GET('/api/jobs', {
        params: {
          query: {
            ...(status === 'all' ? {} : { status }),
            ...(region === '' ? {} : { region: Number(region) }),
          },
        },
      });
      if (!live) return;
      if (data) setPage(data);
      else setError(problemText(e, response));
    })();
    return () => {
      live = false;
    };
  }, [signedIn, status, region]);

  if (!signedIn) {
    return (
      <section aria-labelledby="jobs-title">
        <h1 id="jobs-title">Your jobs</h1>
        <p>Connect a wallet and sign in to see your jobs.</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Your jobs</h1>
      <label>
        Status{' '}
        <select value={status} onChange={(e) => setStatus(e.target.value as (typeof STATUSES)[number])}>
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>{' '}
      <label>
        Region (pinned){' '}
        <select value={region} onChange={(e) => setRegion(e.target.value)}>
          <option value="">all</option>
          {regions.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <ul className="jobs">
        {page?.jobs.map((job) => (
          <li key={job.id}>
            <a href={`#/jobs/${job.id}`}>
              <code>{job.rental.slice(0, 8)}…</code>
            </a>{' '}
            {job.gpuName ?? `GPU ${job.gpu}`} · {job.hours} h ·{' '}
            {job.region != null ? `${regions.find((r) => r.id === job.region)?.name ?? `region ${job.region}`} · ` : ''}
            <span className={`state ${job.state}`}>{job.state}</span>
          </li>
        ))}
        {page && page.jobs.length === 0 && <li>No jobs match: rent a GPU from the catalog, or change the filters.</li>}
      </ul>
    </section>
  );
}
