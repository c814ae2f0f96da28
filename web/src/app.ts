// The console's shell: sign-in gate, navigation and the page for the current hash route.
// A 401 anywhere signs the session out and brings back the sign-in form with a notice.
import { useEffect, useState } from 'preact/hooks';
import { whenSignedOut } from './api.js';
import { html } from './html.js';
import { ChartsPage } from './pages/charts-page.js';
import { JobPage } from './pages/job-page.js';
import { JobsPage } from './pages/jobs-page.js';
import { ModelsPage } from './pages/models-page.js';
import { SignIn } from './pages/sign-in.js';
import { SubmitPage } from './pages/submit-page.js';
import { type Route, useRoute } from './router.js';
import { apiKey, signOut } from './session.js';

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'job':
      return html`<${JobPage} key=${route.id} id=${route.id} />`;
    case 'submit':
      return html`<${SubmitPage} />`;
    case 'models':
      return html`<${ModelsPage} />`;
    case 'charts':
      return html`<${ChartsPage} />`;
    default:
      return html`<${JobsPage} />`;
  }
}

export function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(() => apiKey() !== null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(
    () =>
      whenSignedOut(() => {
        setNotice('The API key was refused; sign in again.');
        setSignedIn(false);
      }),
    [],
  );

  const signedInNow = () => {
    setNotice(null);
    setSignedIn(true);
  };
  const signOutNow = () => {
    signOut();
    setSignedIn(false);
  };
  if (!signedIn) return html`<${SignIn} notice=${notice} onSignedIn=${signedInNow} />`;
  const link = (hash: string, label: string, active: boolean) => html`<a href=${hash} class=${active ? 'active' : ''}>${label}</a>`;
  return html`<div class="shell">
    <header>
      <span class="brand">dms-batch</span>
      <nav>
        ${link('#/jobs', 'Jobs', route.page === 'jobs' || route.page === 'job')} ${link('#/submit', 'Submit', route.page === 'submit')}
        ${link('#/models', 'Models', route.page === 'models')} ${link('#/charts', 'Hyper-scaling', route.page === 'charts')}
      </nav>
      <button class="link" data-testid="sign-out" onClick=${signOutNow}>Sign out</button>
    </header>
    <${Page} route=${route} />
  </div>`;
}
