// The simulated account behind `accountManagement` / `getDetails`: a balance in USD that every billed
// image draws down, and usage counted as the provider reports it (credits and requests per period).
// The simulator keeps one process lifetime, so every usage period (today, 7 and 30 days, total) is equal.

/** Balance a simulator starts with unless told otherwise (SimulatorOptions.balance). */
export const DEFAULT_BALANCE_USD = 100;

export interface AccountUsagePeriod {
  credits: number;
  requests: number;
}

export interface AccountDetails {
  balance: number;
  usage: {
    today: AccountUsagePeriod;
    last7Days: AccountUsagePeriod;
    last30Days: AccountUsagePeriod;
    total: AccountUsagePeriod;
  };
}

export class SimulatedAccount {
  private credits = 0;
  private requests = 0;
  constructor(private balance: number = DEFAULT_BALANCE_USD) {}

  /** One billed image (a successful result item). */
  bill(usd: number): void {
    this.balance = round(this.balance - usd);
    this.credits = round(this.credits + usd);
    this.requests++;
  }

  setBalance(usd: number): void {
    this.balance = round(usd);
  }

  details(): AccountDetails {
    const p = () => ({ credits: this.credits, requests: this.requests });
    return { balance: this.balance, usage: { today: p(), last7Days: p(), last30Days: p(), total: p() } };
  }
}

/** Money in micro-dollars, so repeated 0.04 steps do not drift. */
function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
