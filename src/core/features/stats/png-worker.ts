import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { ResvgRenderOptions } from '@resvg/resvg-js';
import { z } from 'zod';

/**
 * The worker's whole program (plain CommonJS, so it runs the same under tsx in development and from `dist/`):
 * resvg's render and its PNG encoding, one chart at a time. resvg's own `renderAsync` draws on libuv's pool but
 * leaves `asPng()` (zlib) to the caller: profiled, 52 ms of a `help` burst's event loop went to it while 200
 * `stats` answers were drawn.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Resvg } = require(workerData.resvg);
parentPort.on('message', ({ id, svg }) => {
  try {
    const png = new Resvg(svg, workerData.options).render().asPng();
    const bytes = new Uint8Array(png.buffer, png.byteOffset, png.byteLength).slice();
    parentPort.postMessage({ id, png: bytes }, [bytes.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

const answerSchema = z.object({
  id: z.number(),
  png: z.instanceof(Uint8Array).optional(),
  error: z.string().optional(),
});

type Waiting = { resolve: (png: Buffer) => void; reject: (error: Error) => void };

/**
 * Draws PNGs on one worker thread, started at the first chart (most processes never draw one). The worker does
 * not keep the process alive when nothing is waiting; if it dies, what it was drawing fails and the next chart
 * starts a new one.
 */
export function createPngRenderer(options: ResvgRenderOptions): (svg: string) => Promise<Buffer> {
  let worker: Worker | null = null;
  const waiting = new Map<number, Waiting>();
  let nextId = 0;

  const failAll = (error: Error) => {
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };

  function started(): Worker {
    if (worker) return worker;
    const resvg = createRequire(import.meta.url).resolve('@resvg/resvg-js');
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { resvg, options } });
    w.on('message', (message: unknown) => {
      const answer = answerSchema.safeParse(message);
      if (!answer.success) return;
      const { id, png, error } = answer.data;
      const entry = waiting.get(id);
      waiting.delete(id);
      if (waiting.size === 0) w.unref();
      if (!entry) return;
      if (png) entry.resolve(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
      else entry.reject(new Error(`chart not drawn: ${error ?? 'no image'}`));
    });
    w.on('error', (error) => {
      if (worker === w) worker = null;
      failAll(error);
    });
    w.on('exit', (code) => {
      if (worker === w) worker = null;
      failAll(new Error(`chart worker exited (${code})`));
    });
    worker = w;
    return w;
  }

  return (svg) =>
    new Promise<Buffer>((resolve, reject) => {
      nextId += 1;
      waiting.set(nextId, { resolve, reject });
      const w = started();
      w.ref();
      w.postMessage({ id: nextId, svg });
    });
}
