/** Bitrate of a stream over the last couple of seconds (a moving average of one-second windows). */
export class BitrateMeter {
  #bytes = 0;
  #windowStart = performance.now();
  #bps = 0;

  add(bytes: number, now: number): void {
    this.#bytes += bytes;
    const elapsed = now - this.#windowStart;
    if (elapsed >= 1000) {
      const current = (this.#bytes * 8000) / elapsed;
      this.#bps = this.#bps === 0 ? current : this.#bps * 0.5 + current * 0.5;
      this.#bytes = 0;
      this.#windowStart = now;
    }
  }

  get bps(): number {
    return this.#bps;
  }
}
