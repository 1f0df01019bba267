// Wallets through the Wallet Standard: Phantom, Solflare, Backpack and any other wallet that
// registers itself (`@wallet-standard/app`). Keys never leave the wallet: it signs the sign-in
// message, the transactions and the instance-access messages this app hands it.
import { getWallets } from '@wallet-standard/app';
import type { Wallet, WalletAccount } from '@wallet-standard/base';

type ConnectFeature = {
  'standard:connect': { connect(): Promise<{ accounts: readonly WalletAccount[] }> };
};
type SignInOutput = { account: WalletAccount; signedMessage: Uint8Array; signature: Uint8Array };
type SignInFeature = {
  'solana:signIn': { signIn(...inputs: Record<string, unknown>[]): Promise<readonly SignInOutput[]> };
};
type SignMessageFeature = {
  'solana:signMessage': {
    signMessage(...inputs: { account: WalletAccount; message: Uint8Array }[]): Promise<
      readonly { signedMessage: Uint8Array; signature: Uint8Array }[]
    >;
  };
};
type SignTransactionFeature = {
  'solana:signTransaction': {
    signTransaction(...inputs: { account: WalletAccount; transaction: Uint8Array; chain?: string }[]): Promise<
      readonly { signedTransaction: Uint8Array }[]
    >;
  };
};

/** A wallet this app can use: it connects and signs Solana messages and transactions. */
export function isUsable(wallet: Wallet): boolean {
  const f = wallet.features;
  return (
    'standard:connect' in f &&
    'solana:signIn' in f &&
    'solana:signMessage' in f &&
    'solana:signTransaction' in f &&
    wallet.chains.some((c) => c.startsWith('solana:'))
  );
}

/** The registered usable wallets, now and as more register. Returns an unsubscribe. */
export function watchWallets(onChange: (wallets: Wallet[]) => void): () => void {
  const registry = getWallets();
  const emit = () => onChange(registry.get().filter(isUsable));
  emit();
  const offRegister = registry.on('register', emit);
  const offUnregister = registry.on('unregister', emit);
  return () => {
    offRegister();
    offUnregister();
  };
}

export class WalletRejected extends Error {
  constructor(what: string) {
    super(`the wallet declined to ${what}: nothing was signed or charged`);
  }
}

async function asked<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (e) {
    // Wallets reject with their own errors (Phantom: code 4001, "User rejected the request").
    const message = String((e as Error)?.message ?? e).toLowerCase();
    if (message.includes('reject') || message.includes('denied') || message.includes('declin')) {
      throw new WalletRejected(what);
    }
    throw e;
  }
}

export async function connect(wallet: Wallet): Promise<WalletAccount> {
  const feature = (wallet.features as unknown as ConnectFeature)['standard:connect'];
  const { accounts } = await asked('connect', () => feature.connect());
  const account = accounts.find((a) => a.chains.some((c) => c.startsWith('solana:'))) ?? accounts[0];
  if (!account) throw new Error(`${wallet.name} has no Solana account`);
  return account;
}

/** Signs the API's Sign-In With Solana input (the wallet writes and shows the message). */
export async function signIn(
  wallet: Wallet,
  account: WalletAccount,
  input: Record<string, unknown>,
): Promise<SignInOutput> {
  const feature = (wallet.features as unknown as Partial<SignInFeature>)['solana:signIn'];
  if (!feature) throw new Error(`${wallet.name} does not support Sign-In With Solana`);
  const [out] = await asked('sign in', () => feature.signIn({ ...input, address: account.address }));
  return out;
}

export async function signMessage(
  wallet: Wallet,
  account: WalletAccount,
  message: Uint8Array,
): Promise<{ signedMessage: Uint8Array; signature: Uint8Array }> {
  const feature = (wallet.features as unknown as Partial<SignMessageFeature>)['solana:signMessage'];
  if (!feature) throw new Error(`${wallet.name} cannot sign messages`);
  const [out] = await asked('sign the message', () => feature.signMessage({ account, message }));
  return out;
}

export async function signTransaction(
  wallet: Wallet,
  account: WalletAccount,
  transaction: Uint8Array,
): Promise<Uint8Array> {
  const feature = (wallet.features as unknown as SignTransactionFeature)['solana:signTransaction'];
  const chain = account.chains.find((c) => c.startsWith('solana:'));
  const [out] = await asked('sign the transaction', () => feature.signTransaction({ account, transaction, chain }));
  return out.signedTransaction;
}

export const base64 = {
  encode: (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)),
  decode: (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0)),
};
