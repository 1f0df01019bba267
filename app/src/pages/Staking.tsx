// Staking: the wallet's stake (earning, waiting for the next epoch, seasoned for priority),
// rewards waiting, the epoch and its end, the priority tier and what it gives; stake, add,
// unstake and claim, each a transaction built in the browser and signed by the wallet. The
// figures the program computes over time (rewards, tier, epoch end) come from the API's index.
import { useCallback, useEffect, useState } from 'react';

import { api, problemText, type Schemas } from '../api';
import { signAndSend } from '../chain';
import { calorText, parseCalor, when } from '../format';
import { useSession } from '../session';
import {
  claimInstruction,
  depositInstruction,
  readStaking,
  stakeNow,
  withdrawInstruction,
  type StakingView,
} from '../chain';

type Stakes = Schemas['Stakes'];

const TIER_NAMES = ['none', 'tier 1', 'tier 2', 'tier 3'];

export function Staking() {
  const session = useSession();
  const [stakes, setStakes] = useState<Stakes | null>(null);
  const [chain, setChain] = useState<StakingView | null>(null);
  const [amount, setAmount] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const owner = session.account?.address;
  const load = useCallback(async () => {
    if (!owner) return;
    const [fromApi, fromChain] = await Promise.allSettled([api.GET('/api/rewards/stakes'), readStaking(owner)]);
    if (fromChain.status === 'fulfilled') setChain(fromChain.value);
    else setError(`The chain could not be read: ${(fromChain.reason as Error).message}`);
    if (fromApi.status === 'fulfilled') {
      const { data, error: e, response } = fromApi.value;
      if (data) setStakes(data);
      else setError(problemText(e, response));
    }
  }, [owner]);

  // epochs end and rewards arrive while the page is open
  useEffect(() => {
    if (!session.signedIn) return;
    void load();
    const every = window.setInterval(() => void load(), 10_000);
    return () => window.clearInterval(every);
  }, [session.signedIn, load]);

  if (!session.signedIn || !chain) {
    return (
      <section aria-labelledby="staking-title">
        <h1 id="staking-title">Staking</h1>
        <p>{session.signedIn ? 'Reading your stake…' : 'Connect a wallet and sign in to stake Calor.'}</p>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </section>
    );
  }

  const decimals = chain.calorDecimals;
  const calor = (n: bigint | number) => calorText(n, decimals);
  const stake = chain.stake;
  const now = stakeNow(chain);
  const total = now.active + now.pending;
  const units = parseCalor(amount, decimals);
  const amountProblem =
    amount.trim() === ''
      ? null
      : units === null || units === 0n
        ? `Enter an amount of Calor greater than 0, with at most ${decimals} decimals.`
        : null;
  const pendingRewards = BigInt(stakes?.pendingRewards ?? 0);

  async function act(what: string, build: () => Promise<Parameters<typeof signAndSend>[2][number]>, done: string) {
    if (!session.wallet || !session.account) return;
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const instruction = await build();
      await signAndSend(session.wallet, session.account, [instruction]);
      setNotice(done);
      setAmount('');
      await load();
    } catch (e) {
      setError(`${what}: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  function deposit() {
    if (units === null || units === 0n) return;
    if (units > chain!.balance) {
      setError(`Not enough Calor: your wallet holds ${calor(chain!.balance)}.`);
      return;
    }
    void act('Staking', () => depositInstruction(chain!, units), `Staked ${calor(units)}: it earns from the next epoch.`);
  }

  function withdraw() {
    if (units === null || units === 0n) return;
    if (units > total) {
      setError(`You have ${calor(total)} staked: you cannot unstake more.`);
      return;
    }
    void act('Unstaking', () => withdrawInstruction(chain!, units), `Unstaked ${calor(units)}: it is back in your wallet.`);
  }

  const tier = stakes?.priorityTier ?? 0;
  const thresholds = stakes?.tierThresholds ?? [];
  return (
    <section aria-labelledby="staking-title">
      <h1 id="staking-title">Staking</h1>
      <p className="muted">
        Staked Calor earns a share of the fees paid in Calor, shared at the end of each epoch among the stake active during
        it, and gives your rentals routing priority once it is seasoned. Unstaking is immediate.
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {notice && (
        <p role="status">
          {notice}
        </p>
      )}
      <div className="cards">
        <div className="card" data-testid="stake-summary">
          <h2>Your stake</h2>
          <dl className="amounts">
            <dt>Earning</dt>
            <dd className="amount" data-testid="stake-active">{calor(now.active)}</dd>
            <dt>Starts earning next epoch</dt>
            <dd className="amount" data-testid="stake-pending">{calor(now.pending)}</dd>
            <dt>Seasoned (counts for priority)</dt>
            <dd className="amount">{stakes?.stake ? calor(stakes.stake.seasoned) : '—'}</dd>
            <dt>In your wallet</dt>
            <dd className="amount" data-testid="calor-balance">{calor(chain.balance)}</dd>
            {stake && stake.priorityRentals > 0 && (
              <>
                <dt>Held</dt>
                <dd>
                  {calor(stake.priorityFloor)} while {stake.priorityRentals} rental(s) opened with its priority are open
                </dd>
              </>
            )}
            {stake && stake.lockedUntil > 0n && (
              <>
                <dt>Locked by a vote until</dt>
                <dd>{when(Number(stake.lockedUntil))}</dd>
              </>
            )}
          </dl>
        </div>
        <div className="card">
          <h2>Rewards</h2>
          <dl>
            <dt>Waiting for you</dt>
            <dd className="amount" data-testid="rewards-pending">{stakes ? calor(pendingRewards) : '—'}</dd>
            <dt>Epoch</dt>
            <dd>
              {stakes ? `${stakes.epoch}, ends ${when(stakes.epochEndsAt)}` : `${chain.pool.epoch}`}
            </dd>
            <dt>Pool</dt>
            <dd>
              {calor(chain.pool.activeStake)} earning, {calor(chain.pool.pendingStake)} from the next epoch
            </dd>
          </dl>
          <button
            type="button"
            disabled={busy || pendingRewards === 0n}
            aria-describedby="claim-why"
            onClick={() => void act('Claiming', () => claimInstruction(chain), `Claimed ${calor(pendingRewards)}.`)}
          >
            Claim rewards
          </button>
          {pendingRewards === 0n && (
            <p id="claim-why" className="muted">
              Nothing to claim yet: rewards are shared when an epoch ends, among the stake that was earning during it.
            </p>
          )}
        </div>
        <div className="card">
          <h2>Priority</h2>
          <p data-testid="priority-tier">
            Your tier: <strong>{TIER_NAMES[tier] ?? tier}</strong>
          </p>
          <ul>
            {thresholds.map((t, i) => (
              <li key={i}>
                Tier {i + 1}: {calor(t)} seasoned
              </li>
            ))}
          </ul>
          <p className="muted">
            A rental opened with your stake's priority is taken from the queue before those without it (higher tiers
            first, then by age) when nodes are scarce. Stake is seasoned after a whole epoch of earning.
          </p>
        </div>
      </div>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          deposit();
        }}
      >
        <label>
          Amount (Calor)
          <input
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            placeholder="1000"
            aria-invalid={amountProblem !== null}
            aria-describedby={amountProblem ? 'amount-problem' : undefined}
          />
        </label>
        {amountProblem && (
          <p id="amount-problem" className="error" role="alert">
            {amountProblem}
          </p>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || units === null || units === 0n}>
            {stake ? 'Add to stake' : 'Stake'}
          </button>
          <button type="button" disabled={busy || !stake || units === null || units === 0n} onClick={withdraw}>
            Unstake
          </button>
        </div>
      </form>
    </section>
  );
}
