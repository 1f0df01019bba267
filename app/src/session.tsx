// The signed-in wallet: which wallet, which account, and the API's bearer token.
import type { Wallet, WalletAccount } from '@wallet-standard/base';
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

import { api, problemText, setAccessToken } from './api';
import { base64, connect, signIn, watchWallets } from './wallet';

export type Session = {
  wallets: Wallet[];
  wallet: Wallet | null;
  account: WalletAccount | null;
  signedIn: boolean;
  busy: boolean;
  error: string | null;
  signInWith(wallet: Wallet): Promise<void>;
  signOut(): void;
};

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [wallets, setWallets] = useState<Wallet[]>([]);
  const [wallet, setWallet] = useState<Wallet | null>(null);
  const [account, setAccount] = useState<WalletAccount | null>(null);
  const [signedIn, setSignedIn] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => watchWallets(setWallets), []);

  const session = useMemo<Session>(
    () => ({
      wallets,
      wallet,
      account,
      signedIn,
      busy,
      error,
      async signInWith(chosen) {
        setBusy(true);
        setError(null);
        try {
          const connected = await connect(chosen);
          const { data: input, error: e1, response: r1 } = await api.POST('/api/auth/challenge');
          if (!input) throw new Error(problemText(e1, r1));
          const signed = await signIn(chosen, connected, input as Record<string, unknown>);
          const { data: tokens, error: e2, response: r2 } = await api.POST('/api/auth/verify', {
            body: {
              address: connected.address,
              signedMessage: base64.encode(signed.signedMessage),
              signature: base64.encode(signed.signature),
            },
          });
          if (!tokens) throw new Error(problemText(e2, r2));
          setAccessToken(tokens.accessToken);
          setWallet(chosen);
          setAccount(connected);
          setSignedIn(true);
        } catch (e) {
          setError((e as Error).message);
        } finally {
          setBusy(false);
        }
      },
      signOut() {
        setAccessToken(null);
        setSignedIn(false);
        setAccount(null);
        setWallet(null);
      },
    }),
    [wallets, wallet, account, signedIn, busy, error],
  );
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

export function shortAddress(address: string): string {
  return `${address.slice(0, 4)}…${address.slice(-4)}`;
}
