// The web terminal: the API builds the access message, the renter's wallet signs it, the
// provider's provisioner checks the signature against the rental's renter on chain and opens a
// shell over a websocket. A dropped connection is said, with its reason, and can be reopened
// (with a new signature: an access message opens once).
import '@xterm/xterm/css/xterm.css';

import { Terminal as XTerm } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'react';

import { signedAccess, type SignedAccess } from './access';
import { useSession } from './session';
import { WalletRejected } from './wallet';

type Status = {
  kind: 'idle' | 'signing' | 'connecting' | 'open' | 'closed' | 'reconnecting';
  reason?: string;
};

/** Closes after which the same instance is still there: the app reconnects by itself. */
const TRANSIENT = new Set([1001, 1006, 1012]);
/**
 * Waits before each reconnection, growing so that a provider restarting its service (which
 * takes seconds) or a network coming back is caught within about 45 s without hammering it.
 * Each attempt has the wallet sign a new access message: a restarted provider refuses
 * messages signed before it started, and every message is single-use.
 */
const RECONNECT_DELAYS_MS = [1000, 2000, 4000, 8000, 15000, 15000];

const REASONS: Record<number, string> = {
  1000: 'the shell exited',
  1001: 'the provider restarted its service',
  1006: 'the connection dropped',
  1012: 'the instance is restarting',
  4000: 'the rental ended',
};

export function WebTerminal({ job }: { job: string }) {
  const session = useSession();
  const holder = useRef<HTMLDivElement>(null);
  const term = useRef<XTerm | null>(null);
  const socket = useRef<WebSocket | null>(null);
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const attempts = useRef(0);
  const unmounted = useRef(false);

  useEffect(
    () => () => {
      unmounted.current = true;
      socket.current?.close();
      term.current?.dispose();
    },
    [],
  );

  /** Schedules the next reconnection, saying why; false once the attempts are spent. */
  function retry(reason: string): boolean {
    if (attempts.current >= RECONNECT_DELAYS_MS.length) return false;
    const delay = RECONNECT_DELAYS_MS[attempts.current];
    attempts.current += 1;
    term.current?.write(`\r\n\x1b[33m[connection lost: ${reason}; reconnecting]\x1b[0m\r\n`);
    setStatus({ kind: 'reconnecting', reason });
    window.setTimeout(() => void open(), delay);
    return true;
  }

  async function open() {
    if (unmounted.current || !session.wallet || !session.account) return;
    setStatus({ kind: 'signing' });
    let access: SignedAccess;
    try {
      access = await signedAccess(session.wallet, session.account, job, 'terminal');
    } catch (e) {
      // While reconnecting, a provider still restarting is not reachable yet (the API says so):
      // keep trying. A declined signature ends it: the renter chose to.
      if (attempts.current > 0 && !(e instanceof WalletRejected) && retry((e as Error).message)) return;
      setStatus({ kind: 'closed', reason: (e as Error).message });
      return;
    }
    if (!term.current && holder.current) {
      term.current = new XTerm({ cols: 100, rows: 28, fontSize: 14, convertEol: false, cursorBlink: true });
      term.current.open(holder.current);
    }
    const xterm = term.current!;
    setStatus({ kind: 'connecting' });
    const ws = new WebSocket(access.url);
    ws.binaryType = 'arraybuffer';
    socket.current = ws;
    ws.onopen = () =>
      ws.send(
        JSON.stringify({
          type: 'auth',
          message: access.message,
          signature: access.signature,
          cols: xterm.cols,
          rows: xterm.rows,
        }),
      );
    ws.onmessage = (event) => {
      if (typeof event.data === 'string') {
        if (JSON.parse(event.data).type === 'ready') {
          attempts.current = 0;
          setStatus({ kind: 'open' });
          xterm.focus();
        }
      } else {
        xterm.write(new Uint8Array(event.data as ArrayBuffer));
      }
    };
    ws.onclose = (event) => {
      const reason = event.reason || REASONS[event.code] || `closed (${event.code})`;
      if (unmounted.current) return;
      if (!TRANSIENT.has(event.code) || !retry(reason)) setStatus({ kind: 'closed', reason });
    };
    const typed = xterm.onData((text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(new TextEncoder().encode(text));
    });
    ws.addEventListener('close', () => typed.dispose());
  }

  const label = status.kind === 'closed' ? 'Reconnect the terminal' : 'Open the web terminal';
  return (
    <div className="terminal">
      {(status.kind === 'idle' || status.kind === 'closed') && (
        <button type="button" onClick={() => void open()}>
          {label}
        </button>
      )}
      <p role="status" className="muted">
        {status.kind === 'signing' && 'Sign the access message in your wallet: only your signature opens a shell.'}
        {status.kind === 'connecting' && 'Connecting to the provider…'}
        {status.kind === 'open' && 'Connected: a root shell in /workspace.'}
        {status.kind === 'closed' && `Terminal closed: ${status.reason}.`}
        {status.kind === 'reconnecting' &&
          `Connection lost (${status.reason}): reconnecting in a moment; your wallet signs a new access message.`}
      </p>
      <div ref={holder} className="xterm-holder" data-testid="terminal" />
    </div>
  );
}
