// The answer to `accountManagement` / `getDetails` (shared contract §11): the account's balance and
// usage. Field names beyond `balance` and `usage` are UNCONFIRMED, so every plausible envelope is read:
// {data:[{balance}]}, {data:{balance}}, {balance}, and a balance nested under details/account.
export interface AccountBalance {
  /** USD the account can still spend. */
  balance: number;
  /** The usage object as the provider sent it (periods with credits and requests), when present. */
  usage: Record<string, unknown> | undefined;
}

export function parseAccountDetails(body: unknown): AccountBalance | undefined {
  for (const candidate of candidates(body)) {
    const balance = toNumber(candidate.balance ?? candidate.credits ?? candidate.availableBalance);
    if (balance !== undefined) {
      const usage = isObject(candidate.usage) ? candidate.usage : undefined;
      return { balance, usage };
    }
  }
  return undefined;
}

function* candidates(body: unknown): Generator<Record<string, unknown>> {
  if (!isObject(body) && !Array.isArray(body)) return;
  const roots: unknown[] = Array.isArray(body) ? body : [body];
  for (const root of roots) {
    if (!isObject(root)) continue;
    const data = root.data;
    const inner: unknown[] = Array.isArray(data) ? data : data === undefined ? [] : [data];
    for (const x of [...inner, root]) {
      if (!isObject(x)) continue;
      yield x;
      for (const k of ['details', 'account', 'result']) if (isObject(x[k])) yield x[k];
    }
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function toNumber(x: unknown): number | undefined {
  if (typeof x === 'number' && Number.isFinite(x)) return x;
  if (typeof x === 'string' && x.trim() !== '' && Number.isFinite(Number(x))) return Number(x);
  if (typeof x === 'bigint') return Number(x);
  return undefined;
}
