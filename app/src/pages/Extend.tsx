// Extend a running rental, SOL or Calor: hours more at its own rate (and, with Calor, the subsidy
// share fixed at its open), quoted in the browser by the program's rules (no minimum for an
// extension) and sent by the wallet to the RPC node.
import { useState } from 'react';

import { extendInstruction, quoteExtensionOnChain, signAndSend } from '../chain';
import { calorText, solText as sol } from '../format';
import { quoteErrorText, shortfall, usdText } from '@calor/sdk';
import { useSession } from '../session';

export function Extend({ rental, onExtended }: { rental: string; onExtended: (hours: number) => void }) {
  const session = useSession();
  const [hours, setHours] = useState(1);
  const [offer, setOffer] = useState<{ text: string; maxPayment: bigint } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function quote() {
    setBusy(true);
    setError(null);
    setOffer(null);
    try {
      const q = await quoteExtensionOnChain(rental, hours);
      if ('error' in q.result) {
        setError(quoteErrorText(q.result.error));
        return;
      }
      const ok = q.result.ok;
      const calor = ok.payment === 'calor';
      const short = shortfall(q, ok);
      if (short) {
        const amount = (n: bigint) => (short.unit === 'calor' ? calorText(n, q.calorDecimals) : sol(n));
        setError(`Not enough ${short.unit === 'calor' ? 'Calor' : 'SOL'}: ${hours} h more needs up to ${amount(short.need)}; your wallet holds ${amount(short.have)}.`);
        return;
      }
      const amount = calor ? calorText(ok.amount, q.calorDecimals) : sol(ok.amount);
      setOffer({ text: `${hours} h more: ${usdText(ok.paidUsdMicro)} = ${amount}`, maxPayment: ok.maxPayment });
    } catch (e) {
      setError(`The chain could not be read: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  async function extend() {
    if (!offer || !session.wallet || !session.account) return;
    setBusy(true);
    setError(null);
    try {
      const instruction = await extendInstruction(rental, session.account.address, hours, offer.maxPayment);
      await signAndSend(session.wallet, session.account, [instruction]);
      setOffer(null);
      onExtended(hours);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="extend"
      aria-label="Extend"
      onSubmit={(e) => {
        e.preventDefault();
        void quote();
      }}
    >
      <label>
        Extend by (hours){' '}
        <input
          type="number"
          min={1}
          value={hours}
          onChange={(e) => {
            setHours(Number(e.target.value));
            setOffer(null);
          }}
        />
      </label>{' '}
      <button type="submit" disabled={busy}>
        Quote the extension
      </button>
      {offer && (
        <p>
          <span data-testid="extend-quote">{offer.text}</span>{' '}
          <button type="button" className="primary" disabled={busy} onClick={() => void extend()}>
            {busy ? 'Waiting for the wallet…' : 'Sign and extend'}
          </button>
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
