import { lazy, Suspense, useEffect, useState } from 'react';
import { api, forgotten, ok } from './lib/api.js';
import { setCredential, tokenClaims, useCredential } from './lib/auth.js';
import { getMounts } from './lib/base.js';
import { ErrorBoundary } from './lib/error-boundary.js';
import { Link, segments, useLocation } from './lib/router.js';
import { ErrorBox, Field } from './lib/ui.js';
import { LakeRoutes } from './lake/routes.js';

const ScriptRoutes = lazy(() => import('./script/routes.js'));
const SpaceRoutes = lazy(() => import('./space/routes.js'));

export function App() {
  const { path } = useLocation();
  const [area] = segments(path);
  const mounts = getMounts();
  return (
    <>
      <a href="#main" className="skip">Skip to content</a>
      <header className="topbar">
        <Link to="" className="brand">DreamLake console</Link>
        <nav aria-label="APIs">
          {mounts.lake && <Link to="" aria-current={area === undefined || area === 'lake' ? 'page' : undefined}>DreamLake</Link>}
          {mounts.script && <Link to="script" aria-current={area === 'script' ? 'page' : undefined}>Dreamscript</Link>}
          {mounts.space && <Link to="space" aria-current={area === 'space' ? 'page' : undefined}>Dreamspace</Link>}
        </nav>
        <SignedIn />
      </header>
      <main id="main">
        <ErrorBoundary resetKey={path}>
          <Suspense fallback={<p role="status">Loading…</p>}>
            {area === 'script' ? <ScriptRoutes path={path} /> : area === 'space' ? <SpaceRoutes path={path} /> : <RequireToken><LakeRoutes path={path} /></RequireToken>}
          </Suspense>
        </ErrorBoundary>
      </main>
    </>
  );
}

function SignedIn() {
  const token = useCredential('lake');
  const [user, setUser] = useState<string | null>(null);
  useEffect(() => {
    setUser(null);
    if (!token || !getMounts().lake) return;
    ok(api.GET('/auth/me')).then(
      (me) => setUser(me.username),
      () => setUser(tokenClaims(token)?.username ?? null),
    );
  }, [token]);
  if (!token) return null;
  return (
    <div className="who">
      <span>
        Signed in as <strong>{user ?? '…'}</strong>
      </span>
      <button type="button" onClick={() => setCredential('lake', null)}>Sign out</button>
    </div>
  );
}

function RequireToken({ children }: { children: React.ReactNode }) {
  const token = useCredential('lake');
  if (!getMounts().lake) return <p>DreamLake is switched off on this server.</p>;
  if (token) return <>{children}</>;
  return <SignIn />;
}

function SignIn() {
  const [value, setValue] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    setCredential('lake', value);
    try {
      await ok(api.GET('/auth/me'));
    } catch (err) {
      setCredential('lake', null);
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return (
    <section className="page narrow">
      <h1>Sign in</h1>
      {forgotten?.kind === 'lake' && <p role="alert" className="error-text">{forgotten.message}</p>}
      <p>
        Open the link that <code>dreamlake login-link &lt;username&gt;</code> prints, or paste a token (from{' '}
        <code>dreamlake token</code> or your identity provider).
      </p>
      <form onSubmit={submit} className="stack">
        <Field label="Token" value={value} onChange={setValue} required type="password" autoFocus />
        <button type="submit" className="primary">Sign in</button>
      </form>
      {error && <ErrorBox error={error} />}
    </section>
  );
}
