/**
 * Runs the console's work one task at a time, in order: typed lines, pushed nudges and live completions all
 * go through it, so a nudge is never shown in the middle of answering a line. A failed task is reported and
 * the queue carries on.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  /** Queues `task` after everything queued so far; the result settles as the task does (its failure included). */
  enqueue(task: () => Promise<void>, onError: (error: unknown) => void): Promise<void> {
    const run = this.tail.then(task);
    this.tail = run.catch(onError);
    return run;
  }

  /** Resolves once everything queued so far has run; never rejects. */
  idle(): Promise<void> {
    return this.tail;
  }
}
