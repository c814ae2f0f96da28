// Hash routes (#/jobs, #/jobs/ID, #/submit, #/models, #/charts): the gateway serves one index.html,
// and a job id in the hash never reaches a server log.
import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'jobs' } | { page: 'job'; id: string } | { page: 'submit' } | { page: 'models' } | { page: 'charts' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'jobs' && parts[1]) return { page: 'job', id: parts[1] };
  if (parts[0] === 'submit') return { page: 'submit' };
  if (parts[0] === 'models') return { page: 'models' };
  if (parts[0] === 'charts') return { page: 'charts' };
  return { page: 'jobs' };
}

export const jobHref = (id: string) => `#/jobs/${encodeURIComponent(id)}`;

export function navigate(hash: string): void {
  location.hash = hash;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
