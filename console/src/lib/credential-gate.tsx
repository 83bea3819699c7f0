import { useState, type ReactNode } from 'react';
import { setCredential, useCredential, type Credential } from './auth.js';
import { forgotten } from './api.js';
import { Field } from './ui.js';

/** Asks once for the API's credential (kept in this browser), then shows the pages; "Forget" clears it. */
export function CredentialGate({ kind, api, label, help, children }: { kind: Exclude<Credential, 'lake'>; api: string; label: string; help: ReactNode; children: ReactNode }) {
  const value = useCredential(kind);
  const [draft, setDraft] = useState('');
  if (!value) {
    return (
      <section className="page narrow">
        <h1>{api}</h1>
        <p>{help}</p>
        {forgotten?.kind === kind && <p role="alert" className="error-text">{forgotten.message}</p>}
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            setCredential(kind, draft);
          }}
        >
          <Field label={label} value={draft} onChange={setDraft} required type="password" autoFocus />
          <button type="submit" className="primary">Use this {label}</button>
        </form>
      </section>
    );
  }
  return (
    <>
      <div className="credential-bar muted small">
        {api}: using the {label} kept in this browser.{' '}
        <button type="button" onClick={() => setCredential(kind, null)}>Forget {label}</button>
      </div>
      {children}
    </>
  );
}
