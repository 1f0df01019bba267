// Rent: model, region, hours, SOL or Calor, an SSH key or none. The API quotes with the
// program's own math and builds the transaction; the wallet signs it (nothing is charged before
// that, and a declined signature charges nothing); the signed transaction is relayed.
import { useEffect, useState } from 'react';

import { api, problemText, type GpuCatalog, type Schemas } from '../api';
import { duration, units, usd } from '../format';
import { useSession } from '../session';
import { base64, signTransaction } from '../wallet';

type Created = Schemas['CreatedJob'];

export function Rent({ gpu }: { gpu: number }) {
  const session = useSession();
  const [catalog, setCatalog] = useState<GpuCatalog | null>(null);
  const [region, setRegion] = useState<string>('');
  const [hours, setHours] = useState(3);
  const [payment, setPayment] = useState<'sol' | 'calor'>('sol');
  const [sshKey, setSshKey] = useState('');
  const [created, setCreated] = useState<Created | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void api.GET('/api/gpus').then(({ data, error: e, response }) =>
      data ? setCatalog(data) : setError(problemText(e, response)),
    );
  }, []);
  const model = catalog?.models.find((m) => m.id === gpu);

  // a changed form needs a new quote
  useEffect(() => setCreated(null), [region, hours, payment, sshKey]);

  async function quote() {
    setBusy(true);
    setError(null);
    const { data, error: e, response } = await api.POST('/api/jobs', {
      body: {
        gpu,
        hours,
        payment,
        region: region === '' ? null : Number(region),
        sshKey: sshKey.trim() === '' ? null : sshKey.trim(),
        forwardedPorts: [],
      },
    });
    setBusy(false);
    if (data) setCreated(data);
    else setError(problemText(e, response));
  }

  async function rent() {
    if (!created || !session.wallet || !session.account) return;
    setBusy(true);
    setError(null);
    try {
      const signed = await signTransaction(session.wallet, session.account, base64.decode(created.transaction));
      const { error: e, response } = await api.POST('/api/tx', { body: { transaction: base64.encode(signed) } });
      if (!response.ok) throw new Error(problemText(e, response));
      window.location.hash = `#/jobs/${created.rental}`;
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  if (!session.signedIn) {
    return (
      <section aria-labelledby="rent-title">
        <h1 id="rent-title">Rent {model?.name ?? 'a GPU'}</h1>
        <p>Connect a wallet and sign in to rent: your wallet signs, nothing is charged before it does.</p>
      </section>
    );
  }
  const q = created?.quote;
  return (
    <section aria-labelledby="rent-title">
      <h1 id="rent-title">Rent {model?.name ?? `GPU ${gpu}`}</h1>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void quote();
        }}
      >
        <label>
          Region
          <select value={region} onChange={(e) => setRegion(e.target.value)}>
            <option value="">Nearest with capacity</option>
            {model?.regions
              .filter((r) => r.totalNodes > 0)
              .map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name} ({r.idleNodes} idle)
                </option>
              ))}
          </select>
        </label>
        <label>
          Hours
          <input type="number" min={1} max={720} value={hours} onChange={(e) => setHours(Number(e.target.value))} />
        </label>
        <fieldset>
          <legend>Pay with</legend>
          <label className="check">
            <input type="radio" name="payment" checked={payment === 'sol'} onChange={() => setPayment('sol')} /> SOL
          </label>
          <label className="check">
            <input type="radio" name="payment" checked={payment === 'calor'} onChange={() => setPayment('calor')} /> Calor
            (subsidised, part burned)
          </label>
        </fieldset>
        <label>
          SSH public key (optional: without one, use the web terminal)
          <textarea rows={2} value={sshKey} onChange={(e) => setSshKey(e.target.value)} placeholder="ssh-ed25519 AAAA… you@laptop" />
        </label>
        <button type="submit" disabled={busy}>
          Get a quote
        </button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {q && (
        <div className="quote" aria-live="polite">
          <h2>Quote</h2>
          <dl>
            <dt>Time</dt>
            <dd>
              {q.hours} h at {usd(q.hourlyRateUsd)}/h ({duration(q.hours * 3600)})
            </dd>
            <dt>You pay</dt>
            <dd data-testid="quote-amount">
              {usd(q.paidUsd)} = {q.amountDisplay.toFixed(6)} {q.unit === 'SOL' ? 'SOL' : 'Calor'}
            </dd>
            <dt>Minimum</dt>
            <dd>{usd(q.minimumUsd)} per rental{q.paidUsd <= q.minimumUsd ? ': this rental is at the minimum' : ''}</dd>
            <dt>Rent deposit</dt>
            <dd>{units(q.refundableRentLamports, 'lamports')}, returned when the rental closes</dd>
            <dt>Network fee</dt>
            <dd>{units(q.networkFeeLamports, 'lamports')}</dd>
          </dl>
          <p className="muted">
            Billing starts when the instance is running; stop any time and the unused time is refunded.
            {q.queued ? ' No node is idle now: the rental waits in the queue until one is.' : ''}
          </p>
          <button type="button" className="primary" disabled={busy} onClick={() => void rent()}>
            {busy ? 'Waiting for the wallet…' : `Sign and rent for ${usd(q.paidUsd)}`}
          </button>
        </div>
      )}
    </section>
  );
}
