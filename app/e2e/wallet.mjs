// A Wallet Standard wallet for browser tests: registered in the page by an init script (as a
// browser extension would), its key kept in this Node process behind an exposed binding, so the
// page never holds it. It connects, signs in (Sign-In With Solana text, as wallets write it),
// signs messages and transactions, and can be told to reject the next request.
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58(bytes) {
  let n = 0n;
  for (const b of bytes) n = n * 256n + BigInt(b);
  let out = '';
  while (n > 0n) {
    out = BASE58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

/** The Sign-In With Solana text for `input` signed by `address` (the wallets' layout). */
export function signInText(input, address) {
  let text = `${input.domain} wants you to sign in with your Solana account:\n${address}`;
  if (input.statement) text += `\n\n${input.statement}`;
  const fields = [
    ['URI', input.uri],
    ['Version', input.version],
    ['Chain ID', input.chainId],
    ['Nonce', input.nonce],
    ['Issued At', input.issuedAt],
    ['Expiration Time', input.expirationTime],
    ['Not Before', input.notBefore],
    ['Request ID', input.requestId],
  ]
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}: ${v}`);
  if (input.resources?.length) fields.push('Resources:', ...input.resources.map((r) => `- ${r}`));
  if (fields.length) text += `\n\n${fields.join('\n')}`;
  return text;
}

function shortVec(bytes, at) {
  let value = 0;
  let size = 0;
  for (;;) {
    const b = bytes[at + size];
    value |= (b & 0x7f) << (7 * size);
    size += 1;
    if ((b & 0x80) === 0) return [value, size];
  }
}

export class TestWallet {
  /** `keyFile`: a Solana CLI key file (64 bytes as a JSON array). */
  constructor(keyFile) {
    const secret = Uint8Array.from(JSON.parse(readFileSync(keyFile, 'utf8')));
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(secret.slice(0, 32))]);
    this.key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    this.publicKey = new Uint8Array(createPublicKey(this.key).export({ format: 'der', type: 'spki' }).subarray(-32));
    this.address = base58(this.publicKey);
    this.rejectNext = false;
    this.requests = [];
  }

  sign(bytes) {
    return new Uint8Array(sign(null, Buffer.from(bytes), this.key));
  }

  /** Signs a wire transaction in the signature slot of this wallet's key. */
  signTransaction(wire) {
    const tx = Uint8Array.from(wire);
    const [count, countSize] = shortVec(tx, 0);
    const messageAt = countSize + 64 * count;
    const message = tx.subarray(messageAt);
    const versioned = (message[0] & 0x80) !== 0;
    const header = versioned ? 1 : 0;
    const [keys, keysSize] = shortVec(message, header + 3);
    const keysAt = header + 3 + keysSize;
    for (let i = 0; i < Math.min(keys, count); i++) {
      const key = message.subarray(keysAt + 32 * i, keysAt + 32 * (i + 1));
      if (key.every((b, j) => b === this.publicKey[j])) {
        tx.set(this.sign(message), countSize + 64 * i);
        return tx;
      }
    }
    throw new Error('this wallet is not a signer of the transaction');
  }

  /** What the page's wallet asks of this process. */
  handle(op, payload) {
    this.requests.push(op);
    if (this.rejectNext && op !== 'connect') {
      this.rejectNext = false;
      throw new Error('User rejected the request');
    }
    switch (op) {
      case 'connect':
        return { address: this.address, publicKey: [...this.publicKey] };
      case 'signIn': {
        const text = new TextEncoder().encode(signInText(payload, this.address));
        return { signedMessage: [...text], signature: [...this.sign(text)] };
      }
      case 'signMessage':
        return { signature: [...this.sign(Uint8Array.from(payload))] };
      case 'signTransaction':
        return [...this.signTransaction(payload)];
      default:
        throw new Error(`unknown wallet request ${op}`);
    }
  }

  /** Exposes the binding and registers the wallet in every page of `context`. */
  async install(context) {
    await context.exposeBinding('calorTestWallet', (_source, op, payload) => this.handle(op, payload));
    await context.addInitScript(registerInPage);
  }
}

// Runs in the page before its scripts: a Wallet Standard wallet whose every key operation is a
// call to the Node binding above.
function registerInPage() {
  const call = (op, payload) => window.calorTestWallet(op, payload);
  const chains = ['solana:localnet'];
  const features = ['solana:signIn', 'solana:signMessage', 'solana:signTransaction'];
  let accounts = [];
  const listeners = new Set();
  const wallet = {
    version: '1.0.0',
    name: 'Calor Test Wallet',
    icon: 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0naHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmcnIHZpZXdCb3g9JzAgMCAxNiAxNic+PGNpcmNsZSBjeD0nOCcgY3k9JzgnIHI9JzcnIGZpbGw9JyNjMjQxMGMnLz48L3N2Zz4=',
    chains,
    get accounts() {
      return accounts;
    },
    features: {
      'standard:connect': {
        version: '1.0.0',
        async connect() {
          const a = await call('connect');
          accounts = [{ address: a.address, publicKey: Uint8Array.from(a.publicKey), chains, features }];
          for (const l of listeners) l({ accounts });
          return { accounts };
        },
      },
      'standard:events': {
        version: '1.0.0',
        on(event, listener) {
          if (event !== 'change') return () => {};
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      },
      'solana:signIn': {
        version: '1.0.0',
        async signIn(...inputs) {
          return Promise.all(
            inputs.map(async (input) => {
              const out = await call('signIn', input);
              return {
                account: accounts[0],
                signedMessage: Uint8Array.from(out.signedMessage),
                signature: Uint8Array.from(out.signature),
                signatureType: 'ed25519',
              };
            }),
          );
        },
      },
      'solana:signMessage': {
        version: '1.0.0',
        async signMessage(...inputs) {
          return Promise.all(
            inputs.map(async ({ message }) => {
              const out = await call('signMessage', [...message]);
              return { signedMessage: message, signature: Uint8Array.from(out.signature), signatureType: 'ed25519' };
            }),
          );
        },
      },
      'solana:signTransaction': {
        version: '1.0.0',
        supportedTransactionVersions: ['legacy', 0],
        async signTransaction(...inputs) {
          return Promise.all(
            inputs.map(async ({ transaction }) => ({
              signedTransaction: Uint8Array.from(await call('signTransaction', [...transaction])),
            })),
          );
        },
      },
    },
  };
  const register = ({ register }) => register(wallet);
  try {
    window.dispatchEvent(new CustomEvent('wallet-standard:register-wallet', { detail: register }));
  } catch (e) {
    console.error('test wallet: could not register', e);
  }
  window.addEventListener('wallet-standard:app-ready', ({ detail }) => register(detail));
}
