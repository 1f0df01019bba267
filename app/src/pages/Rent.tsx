// Rent: model, region, hours, SOL or Calor, an SSH key or none. The rental is quoted and built
// here, in the browser, from the chain's own accounts and the program client generated from
// the IDL (the API only lists the rates, and the chain does when it does not answer): the
// quote is the program's arithmetic
// (rules/quote.ts), the key is checked as the program checks it (rules/sshKey.ts), and the
// wallet's transaction goes straight to the RPC node. Nothing is charged before the wallet
// signs; a declined signature charges nothing.
import { useEffect, useState } from 'react';

import type { GpuCatalog } from '../api';
import { loadCatalog } from '../catalog';
import { openInstruction, quoteOnChain, signAndSend, SLIPPAGE_BPS, type ChainQuote } from '../chain';
import { constants } from '@calor/sdk';
import { calorText, duration, solText as sol, usd } from '../format';
import { quoteErrorText, shortfall as shortfallOf, usdText, type Payment } from '@calor/sdk';
import { checkSshKey, sshKeyErrorText } from '@calor/sdk';
import { useSession } from '../session';

/** What the quote panel shows. */
type Offer = {
  hours: number;
  hourlyRateUsd: number;
  paidUsd: string;
  amount: string;
  minimumUsd: string;
  atMinimum: boolean;
  refundableRent: string;
  networkFee: string;
  queued: boolean;
  /** Set when the wallet cannot pay: said before it is asked to sign. */
  shortfall: string | null;
};

const slippage = `${SLIPPAGE_BPS / 100}% slippage`;

function offerOf(q: ChainQuote, queued: boolean): Offer | string {
  if ('error' in q.result) return quoteErrorText(q.result.error);
  const ok = q.result.ok;
  const calor = ok.payment === 'calor';
  const short = shortfallOf(q, ok);
  let shortfall: string | null = null;
  if (short?.unit === 'calor') {
    shortfall = `Not enough Calor: this rental needs up to ${calorText(short.need, q.calorDecimals)} (with ${slippage}); your wallet holds ${calorText(short.have, q.calorDecimals)}.`;
  } else if (short) {
    shortfall = `Not enough SOL: this rental needs up to ${sol(short.need)} (${calor ? 'the refundable rent of the rental and its escrow, and the fee' : `the payment with ${slippage}, the refundable rent and the fee`}); your wallet holds ${sol(short.have)}.`;
  }
  return {
    hours: ok.hours,
    hourlyRateUsd: Number(ok.hourlyRateMicroUsd) / 1e6,
    paidUsd: usdText(ok.paidUsdMicro),
    amount: calor ? calorText(ok.amount, q.calorDecimals) : sol(ok.amount),
    minimumUsd: usdText(ok.minimumUsdMicro),
    atMinimum: ok.paidUsdMicro <= ok.minimumUsdMicro,
    refundableRent: sol(q.rentLamports),
    networkFee: sol(q.feeLamports),
    queued,
    shortfall,
  };
}

export function Rent({ gpu }: { gpu: number }) {
  const session = useSession();
  const [catalog, setCatalog] = useState<GpuCatalog | null>(null);
  const [region, setRegion] = useState<string>('');
  const [hours, setHours] = useState(3);
  const [payment, setPayment] = useState<Payment>('sol');
  const [sshKey, setSshKey] = useState('');
  const [offer, setOffer] = useState<Offer | null>(null);
  // what signing sends: the open at the quoted rate and maximum
  const [terms, setTerms] = useState<{ rate: bigint; maxPayment: bigint } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void loadCatalog().then((loaded) => {
      setCatalog(loaded.catalog);
      setError(loaded.error);
    });
  }, []);
  const model = catalog?.models.find((m) => m.id === gpu);
  const key = sshKey.trim();
  const keyProblem = key === '' ? null : checkSshKey(key);

  // a changed form needs a new quote
  useEffect(() => {
    setOffer(null);
    setTerms(null);
  }, [region, hours, payment, sshKey]);

  async function quote() {
    if (keyProblem || !model || !session.account) return;
    setBusy(true);
    setError(null);
    try {
      const scope = region === '' ? model : model.regions.find((r) => r.id === Number(region));
      if (!scope?.rate) {
        setError(`No ${model.name} is online${region === '' ? '' : ' in this region'}: nothing to rent now.`);
        return;
      }
      const rate = BigInt(scope.rate.marketMicroUsd);
      const q = await quoteOnChain(session.account.address, rate, hours, payment);
      const shown = offerOf(q, scope.idleNodes === 0);
      if (typeof shown === 'string') {
        setError(shown);
        return;
      }
      setOffer(shown);
      if ('ok' in q.result) setTerms({ rate, maxPayment: q.result.ok.maxPayment });
      if (shown.shortfall) setError(shown.shortfall);
    } catch (e) {
      setError(`The chain could not be read: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  async function rent() {
    if (!session.wallet || !session.account || !offer || offer.shortfall || !terms) return;
    setBusy(true);
    setError(null);
    try {
      const open = await openInstruction({
        renter: session.account.address,
        gpu,
        region: region === '' ? null : Number(region),
        hours,
        hourlyRateMicroUsd: terms.rate,
        sshKey: key === '' ? null : key,
        payment,
        maxPayment: terms.maxPayment,
      });
      await signAndSend(session.wallet, session.account, [open.instruction]);
      window.location.hash = `#/jobs/${open.rental}`;
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
  const q = offer;
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
          <input type="number" min={1} max={constants.MAX_RENTAL_HOURS} value={hours} onChange={(e) => setHours(Number(e.target.value))} />
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
          <textarea
            rows={2}
            value={sshKey}
            onChange={(e) => setSshKey(e.target.value)}
            placeholder="ssh-ed25519 AAAA… you@laptop"
            aria-invalid={keyProblem !== null}
            aria-describedby={keyProblem ? 'ssh-key-problem' : undefined}
          />
        </label>
        {keyProblem && (
          <p id="ssh-key-problem" className="error" role="alert">
            This key would be refused: {sshKeyErrorText[keyProblem]}.
          </p>
        )}
        <button type="submit" disabled={busy || keyProblem !== null}>
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
              {q.paidUsd} = {q.amount}
            </dd>
            <dt>Minimum</dt>
            <dd>
              {q.minimumUsd} per rental{q.atMinimum ? ': this rental is at the minimum' : ''}
            </dd>
            <dt>Rent deposit</dt>
            <dd>{q.refundableRent}, returned when the rental closes</dd>
            <dt>Network fee</dt>
            <dd>{q.networkFee}</dd>
          </dl>
          <p className="muted">
            Billing starts when the instance is running; stop any time and the unused time is refunded.
            {q.queued ? ' No node is idle now: the rental waits in the queue until one is.' : ''}
          </p>
          <button type="button" className="primary" disabled={busy || q.shortfall !== null} onClick={() => void rent()}>
            {busy ? 'Waiting for the wallet…' : `Sign and rent for ${q.paidUsd}`}
          </button>
        </div>
      )}
    </section>
  );
}
