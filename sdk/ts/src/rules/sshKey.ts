// The SSH key lines a rental accepts, checked as the program checks them at open
// (calor::ssh_key::validate): one line `<type> <base64 key>[ <comment>]` of a known type, no
// options, no second line, no control characters. Checked before the wallet opens, so a key
// the program would refuse is named on the form instead of costing a failed transaction.
import { MAX_SSH_KEY_LEN } from '../generated/constants';

/** Type name, the base64 the key blob starts with (its own type inside), shortest blob. */
const KEY_TYPES: [string, string, number][] = [
  ['ssh-ed25519', 'AAAAC3NzaC1lZDI1NTE5', 68],
  ['ecdsa-sha2-nistp256', 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY', 140],
  ['ssh-rsa', 'AAAAB3NzaC1yc2E', 372],
];

export type SshKeyError = 'TooLong' | 'UnknownType' | 'BadBlob' | 'BadComment';

export const sshKeyErrorText: Record<SshKeyError, string> = {
  TooLong: `longer than the ${MAX_SSH_KEY_LEN} bytes a key line may have`,
  UnknownType: 'not an ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256 key (or options before the key type)',
  BadBlob: 'the key itself is not base64 of that key type',
  BadComment: 'the comment has a control character or a second line',
};

const isBase64 = (b: number) =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2b || b === 0x2f;

/** `null` when the program accepts `line`, else why it would refuse it. */
export function checkSshKey(line: string): SshKeyError | null {
  const bytes = new TextEncoder().encode(line);
  if (bytes.length > MAX_SSH_KEY_LEN) return 'TooLong';
  const startsWith = (at: number, text: string) => text.split('').every((c, i) => bytes[at + i] === c.charCodeAt(0));
  const type = KEY_TYPES.find(([name]) => bytes[name.length] === 0x20 && startsWith(0, name));
  if (!type) return 'UnknownType';
  const [name, prefix, minLen] = type;
  const rest = name.length + 1;
  let len = 0;
  let padding = 0;
  for (let i = rest; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x20) break;
    if (b === 0x3d) padding++;
    else if (padding > 0 || !isBase64(b)) return 'BadBlob';
    len++;
  }
  if (len < minLen || len % 4 !== 0 || padding > 2 || !startsWith(rest, prefix)) return 'BadBlob';
  for (let i = rest + len; i < bytes.length; i++) {
    if (bytes[i] < 0x20 || bytes[i] >= 0x7f) return 'BadComment';
  }
  return null;
}
