// Polls a loader every `intervalMs` while `active` says so, with the latest value, the last error
// and a manual refresh; calls never overlap, and a page that unmounts stops polling.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export function usePoll<T>(load: () => Promise<T>, intervalMs: number, active: (value: T | undefined) => boolean, deps: unknown[]) {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef<T | undefined>(undefined);
  const busy = useRef(false);
  const alive = useRef(true);

  const refresh = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      const next = await load();
      if (!alive.current) return;
      latest.current = next;
      setValue(next);
      setError(null);
    } catch (e) {
      if (alive.current) setError((e as Error).message);
    } finally {
      busy.current = false;
    }
  }, deps);

  useEffect(() => {
    alive.current = true;
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
