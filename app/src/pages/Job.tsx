// One job: its live state and timeline (each step with its time and transaction), time left
// with a warning before the end, where to connect (SSH, the web terminal, Jupyter, ports),
// Stop, and the settlement: what the provider was paid, the fee, the burn and the refund.
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';

import { signedAccess } from '../access';
import { api, problemText, type Job as JobView } from '../api';
import type { Instruction } from '@solana/kit';

import { claimRefundInstructions, readRental, signAndSend, stateName, stopInstructions } from '../chain';
import type { accounts } from '@calor/sdk';

type Rental = accounts.Rental;
import { rpcUrl } from '../rpc';
import { duration, units, usd, when } from '../format';
import { Extend } from './Extend';
import { useSession } from '../session';

// xterm is most of the app's weight: it loads when a running job is shown
const WebTerminal = lazy(() => import('../Terminal').then((m) => ({ default: m.WebTerminal })));

const WARN_SECS = 15 * 60;
const STEPS = ['opened', 'claimed', 'started', 'ended', 'settled'];

function explorer(signature: string): string {
  return `https://explorer.solana.com/tx/${signature}?cluster=custom&customUrl=${encodeURIComponent(rpcUrl)}`;
}

export function Job({ id }: { id: string }) {
  const session = useSession();
  const [job, setJob] = useState<JobView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(() => Date.now() / 1000);
  // what the chain says when the API does not answer (null: settled, the account is closed)
  const [chainState, setChainState] = useState<{ state: string } | null | undefined>(undefined);

  const load = useCallback(async () => {
    const { data, error: e, response } = await api.GET('/api/jobs/{id}', { params: { path: { id } } });
    if (data) {
      setJob(data);
      setError(null);
    } else if (response.status === 404) {
      setError('Not indexed yet: the job appears once its transaction is confirmed.');
    } else {
      setError(`${problemText(e, response)}: this page reads the chain directly.`);
    }
  }, [id]);

  // the rental's address: from the job, or the page's own id when it is one
  const rentalAddress = job?.rental ?? (id.includes('-') ? null : id);
  const apiDown = error !== null && !error.startsWith('Not indexed');
  useEffect(() => {
    if (!apiDown || !rentalAddress) return;
    void readRental(rentalAddress).then(
      (r) => setChainState(r ? { state: stateName(r.state) } : null),
      () => setChainState(undefined),
    );
  }, [apiDown, rentalAddress, now]);

  useEffect(() => {
    if (!session.signedIn) return;
    void load();
    const every = window.setInterval(() => {
      setNow(Date.now() / 1000);
      void load();
    }, 2000);
    return () => window.clearInterval(every);
  }, [session.signedIn, load]);

  /** Jupyter's URL with its secret: the provider gives it for a message the wallet signs. */
  async function openJupyter() {
    if (!session.wallet || !session.account) return;
    setNotice(null);
    try {
      const access = await signedAccess(session.wallet, session.account, id, 'jupyter');
      const answer = await fetch(access.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: access.message, signature: access.signature }),
      });
      const body = (await answer.json()) as { url?: string; error?: string };
      if (!body.url) throw new Error(body.error ?? `the provider answered ${answer.status}`);
      window.open(body.url, '_blank', 'noopener');
      setNotice('Jupyter opened in a new tab.');
    } catch (e) {
      setNotice((e as Error).message);
    }
  }

  /**
   * Reads the rental from the chain, builds instructions for it here and has the wallet sign
   * and send them to the RPC node: stopping and claiming a refund need no API.
   */
  async function onChain(
    build: (address: string, rental: Rental) => Promise<{ instructions: Instruction[]; said: string }>,
  ) {
    if (!session.wallet || !session.account || !rentalAddress) return;
    setBusy(true);
    setNotice(null);
    try {
      const rental = await readRental(rentalAddress);
      if (!rental) throw new Error('the rental is already settled');
      const built = await build(rentalAddress, rental);
      const signature = await signAndSend(session.wallet, session.account, built.instructions);
      setNotice(`${built.said} (transaction ${signature.slice(0, 12)}…).`);
      void load();
    } catch (e) {
      setNotice((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const stop = () =>
    onChain(async (address, rental) => {
      const built = await stopInstructions(address, rental);
      return {
        instructions: built.instructions,
        said: built.settles
          ? 'Stopped and settled on chain'
          : 'Stopped on chain: the provider settles it, then the refund follows',
      };
    });

  const claimRefund = () =>
    onChain(async (address, rental) => ({
      instructions: await claimRefundInstructions(address, rental),
      said: 'Refund claimed into your Calor account',
    }));

  if (!session.signedIn) return <p>Connect a wallet and sign in to see this job.</p>;
  if (!job || apiDown) {
    return (
      <section aria-labelledby="job-title">
        <h1 id="job-title">Job</h1>
        <p role={error ? 'alert' : 'status'} className={error ? 'error' : ''}>
          {error ?? 'Loading…'}
        </p>
        {apiDown && rentalAddress && (
          <>
            <p data-testid="chain-state">
              Rental <code>{rentalAddress}</code>:{' '}
              {chainState === undefined ? 'reading the chain…' : chainState === null ? 'settled' : chainState.state}
            </p>
            {chainState && ['queued', 'provisioning', 'running', 'completed', 'failed', 'cancelled'].includes(chainState.state) && (
              <button type="button" className="danger" disabled={busy} onClick={() => void stop()}>
                {busy ? 'Waiting for the wallet…' : 'Stop and settle (on chain)'}
              </button>
            )}
            {chainState?.state === 'refund_held' && (
              <button type="button" disabled={busy} onClick={() => void claimRefund()}>
                {busy ? 'Waiting for the wallet…' : 'Claim the held refund (on chain)'}
              </button>
            )}
          </>
        )}
        {notice && <p role="status">{notice}</p>}
      </section>
    );
  }
  const left = job.endsAt != null ? job.endsAt - now : null;
  const running = job.state === 'running';
  const c = job.cost;
  return (
    <section aria-labelledby="job-title">
      <h1 id="job-title">
        {job.gpuName ?? `GPU ${job.gpu}`} · <span className={`state ${job.state}`} data-testid="job-state">{job.state.replace('_', ' ')}</span>
      </h1>
      <p className="muted">
        Rental <code>{job.rental}</code> · {job.hours} h at {usd(job.hourlyRateUsd)}/h
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {running && left != null && (
        <p role={left < WARN_SECS ? 'alert' : 'status'} className={left < WARN_SECS ? 'error' : ''} data-testid="time-left">
          {duration(left)} left{left < WARN_SECS ? ': the instance stops at the end of the paid time. Extend to keep it.' : ''}
        </p>
      )}
      {running && (
        <Extend
          rental={job.rental}
          onExtended={(hours) => {
            setNotice(`Extended by ${hours} h: the new end shows once the chain confirms it.`);
            void load();
          }}
        />
      )}
      <h2>Timeline</h2>
      <ol className="timeline">
        {job.timeline.map((event) => (
          <li key={event.seq} className={STEPS.includes(event.kind) ? 'step' : ''}>
            <strong>{event.kind}</strong> {when(event.at)} ·{' '}
            <a href={explorer(event.signature)} target="_blank" rel="noreferrer">
              transaction
            </a>
          </li>
        ))}
      </ol>
      {running && job.connect && (
        <>
          <h2>Connect</h2>
          {job.connect.sshCommand && (
            <p>
              SSH: <code>{job.connect.sshCommand}</code>{' '}
              <button type="button" onClick={() => void navigator.clipboard.writeText(job.connect!.sshCommand!)}>
                Copy
              </button>
            </p>
          )}
          {job.connect.forwardedPorts.length > 0 && (
            <ul>
              {job.connect.forwardedPorts.map((p) => (
                <li key={p.port}>
                  Port {p.port} ({p.protocol}): {p.url ? <a href={p.url}>{p.url}</a> : `${p.host}:${p.hostPort}`}
                </li>
              ))}
            </ul>
          )}
          {job.connect.jupyterUrl && (
            <p>
              <button type="button" onClick={() => void openJupyter()}>
                Open Jupyter
              </button>{' '}
              <span className="muted">(your wallet signs; the provider gives its secret to you only)</span>
            </p>
          )}
          <Suspense fallback={<p role="status">Loading the terminal…</p>}>
            <WebTerminal job={job.id} />
          </Suspense>
        </>
      )}
      {(running || job.state === 'queued' || job.state === 'provisioning') && (
        <p>
          <button type="button" className="danger" disabled={busy} onClick={() => void stop()}>
            {busy ? 'Waiting for the wallet…' : 'Stop and settle'}
          </button>
        </p>
      )}
      {job.state === 'refund_held' && job.cost.refundClaimed == null && (
        <p>
          Your Calor account could not receive the refund when the rental settled, so the program holds it for you.{' '}
          <button type="button" disabled={busy} onClick={() => void claimRefund()}>
            {busy ? 'Waiting for the wallet…' : 'Claim the refund'}
          </button>
        </p>
      )}
      {notice && <p role="status">{notice}</p>}
      <h2>Money</h2>
      <dl className="money">
        <dt>Escrowed</dt>
        <dd>{units(c.escrowed, c.unit)}</dd>
        <dt>Spent (time served)</dt>
        <dd>{units(c.spent, c.unit)}</dd>
        <dt>Provider paid</dt>
        <dd>{units(c.providerPay, c.unit)}</dd>
        <dt>Protocol fee</dt>
        <dd>{units(c.fee, c.unit)}</dd>
        <dt>Burned</dt>
        <dd data-testid="burned">{units(c.burned, c.unit)}</dd>
        <dt>Refund</dt>
        <dd data-testid="refund">
          {units(c.refund, c.unit)}
          {c.refundHeld && (c.refundClaimed != null ? ' (was held; claimed)' : ' (held: claim it)')}
        </dd>
      </dl>
    </section>
  );
}
