/** A platform-wide pause after a 429: every send to that platform waits until it lifts. */
export class RateGate {
  until = 0;
  constructor(
    private readonly clock: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}
  block(ms: number): void {
    this.until = Math.max(this.until, this.clock() + ms);
  }
  async wait(): Promise<void> {
    for (let i = 0; i < 100 && this.clock() < this.until; i++) await this.sleep(this.until - this.clock());
  }
}
