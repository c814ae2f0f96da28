// Polls a loader every `intervalMs` while `active` says so, with the latest value, the last error
// and a manual refresh; calls never overlap, and a page that unmounts stops polling.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export function usePoll<T>(load: () => Promise<T>, intervalMs: number, active: (value: T | undefined) => boolean, deps: unknown[]) {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef<T | undefined>(undefined);
  // The loader generation in flight (null: none). New deps start a new generation: its first call runs
  // even while an older one is in flight, and what an older one returns is dropped.
  const busy = useRef<number | null>(null);
  const generation = useRef(0);
  const alive = useRef(true);

  const refresh = useCallback(async () => {
    const mine = generation.current;
    if (busy.current === mine) return;
    busy.current = mine;
    const current = () => alive.current && generation.current === mine;
    try {
      const next = await load();
      if (!current()) return;
      latest.current = next;
      setValue(next);
      setError(null);
    } catch (e) {
      if (current()) setError((e as Error).message);
    } finally {
      if (busy.current === mine) busy.current = null;
    }
  }, deps);

  useEffect(() => {
    alive.current = true;
    generation.current++;
    latest.current = undefined;
    setValue(undefined);
    void refresh();
    const timer = setInterval(() => {
      if (active(latest.current)) void refresh();
    }, intervalMs);
    return () => {
      alive.current = false;
      clearInterval(timer);
    };
  }, [refresh]);

  return { value, error, refresh };
}
