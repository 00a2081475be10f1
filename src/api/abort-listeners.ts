/**
 * One listener on a caller's AbortSignal however many runs share it: Node
 * warns (MaxListenersExceededWarning) past 10 listeners on one signal, and
 * twelve concurrent runs on one signal is an ordinary thing to do. Each run
 * adds its callback here and removes it when it settles; the signal's own
 * listener goes with the last one.
 */
interface Fan {
  callbacks: Set<() => void>;
  fire: () => void;
}

const fans = new WeakMap<AbortSignal, Fan>();

/** Calls `callback` once when `signal` aborts (at once if it has); returns what removes it. */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  if (signal.aborted) {
    callback();
    return () => undefined;
  }
  let fan = fans.get(signal);
  if (fan === undefined) {
    const callbacks = new Set<() => void>();
    const fire = () => {
      fans.delete(signal);
      for (const each of [...callbacks]) each();
    };
    fan = { callbacks, fire };
    fans.set(signal, fan);
    signal.addEventListener('abort', fire, { once: true });
  }
  const { callbacks, fire } = fan;
  callbacks.add(callback);
  return () => {
    if (!callbacks.delete(callback) || callbacks.size > 0) return;
    if (fans.get(signal)?.fire === fire) fans.delete(signal);
    signal.removeEventListener('abort', fire);
  };
}
