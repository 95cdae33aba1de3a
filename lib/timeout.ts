/** A promise raced against a deadline, for calls to outside systems that may never answer. */
import { Unavailable } from './errors';

/** `p`, or a rejection with Unavailable(`what`) (503, naming the dependency) after `ms`; the timer never outlives the race. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Unavailable(what, `no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
