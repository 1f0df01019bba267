import { lazy, Suspense, useEffect, useState } from 'react';

import { Catalog } from './pages/Catalog';
import { Job } from './pages/Job';
import { Jobs } from './pages/Jobs';
import { Rent } from './pages/Rent';
import { Staking } from './pages/Staking';

// the charts' library loads with the network page only
const Network = lazy(() => import('./pages/Network').then((m) => ({ default: m.Network })));
import { shortAddress, useSession } from './session';

type Theme = 'light' | 'dark';

function useHashRoute(): string {
  const [route, setRoute] = useState(window.location.hash.slice(1) || '/');
  useEffect(() => {
    const onChange = () => setRoute(window.location.hash.slice(1) || '/');
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function WalletButton() {
  const session = useSession();
  const [open, setOpen] = useState(false);
  if (session.signedIn && session.account) {
    return (
      <div className="wallet">
        <span className="address" title={session.account.address}>
          {session.wallet?.name}: {shortAddress(session.account.address)}
        </span>
        <button type="button" onClick={session.signOut}>
          Sign out
        </button>
      </div>
    );
  }
  return (
    <div className="wallet">
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)} disabled={session.busy}>
        {session.busy ? 'Waiting for the wallet…' : 'Connect wallet'}
      </button>
      {open && (
        <ul className="menu" aria-label="Wallets">
          {session.wallets.length === 0 && (
            <li>No Solana wallet found: install Phantom, Solflare or Backpack, then reload.</li>
          )}
          {session.wallets.map((w) => (
            <li key={w.name}>
              <button
                type="button"
                onClick={() => {
                  setOpen(false);
                  void session.signInWith(w);
                }}
              >
                {w.icon && <img src={w.icon} alt="" width={20} height={20} />} {w.name}
              </button>
            </li>
          ))}
        </ul>
      )}
      {session.error && (
        <p role="alert" className="error">
          {session.error}
        </p>
      )}
    </div>
  );
}

function Page({ route, theme }: { route: string; theme: Theme }) {
  const rent = route.match(/^\/rent\/(\d+)$/);
  if (rent) return <Rent gpu={Number(rent[1])} />;
  const job = route.match(/^\/jobs\/([\w-]+)$/);
  if (job) return <Job id={job[1]} />;
  if (route === '/jobs') return <Jobs />;
  if (route === '/staking') return <Staking />;
  if (route === '/network')
    return (
      <Suspense fallback={<p role="status">Loading…</p>}>
        <Network theme={theme} />
      </Suspense>
    );
  return <Catalog />;
}

export function App() {
  const route = useHashRoute();
  const [theme, setTheme] = useState<Theme>(() =>
    window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light',
  );
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header>
        <a className="brand" href="#/">
          Calor
        </a>
        <nav aria-label="Main">
          <a href="#/" aria-current={route === '/' ? 'page' : undefined}>
            GPUs
          </a>
          <a href="#/jobs" aria-current={route.startsWith('/jobs') ? 'page' : undefined}>
            Jobs
          </a>
          <a href="#/staking" aria-current={route === '/staking' ? 'page' : undefined}>
            Staking
          </a>
          <a href="#/network" aria-current={route === '/network' ? 'page' : undefined}>
            Network
          </a>
        </nav>
        <button
          type="button"
          className="theme"
          aria-label={`Switch to the ${theme === 'dark' ? 'light' : 'dark'} theme`}
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
        >
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        <WalletButton />
      </header>
      <main id="main">
        <Page route={route} theme={theme} />
      </main>
    </>
  );
}
