import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, NetworkError } from './api.js';
import type { Loaded } from './load.js';
import { Link } from './router.js';

export function Page({ title, crumbs, actions, children }: { title: string; crumbs?: { to: string; label: string }[]; actions?: ReactNode; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · DreamLake console`;
  }, [title]);
  return (
    <section className="page">
      {crumbs && crumbs.length > 0 && (
        <nav aria-label="Breadcrumbs" className="crumbs">
          <ol>
            {crumbs.map((c, i) => (
              <li key={i}>
                <Link to={c.to}>{c.label}</Link>
              </li>
            ))}
            <li aria-current="page">{title}</li>
          </ol>
        </nav>
      )}
      <header className="page-head">
        <h1>{title}</h1>
        {actions && <div className="actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function ErrorBox({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  const notFound = error instanceof ApiError && error.status === 404;
  return (
    <div role="alert" className="error-box">
      <strong>{notFound ? 'Not found' : error instanceof ApiError && error.status === 403 ? 'Not allowed' : error instanceof NetworkError ? 'Server unreachable' : 'Something went wrong'}</strong>
      <p>{notFound ? `This does not exist, or you cannot see it. (${error.message})` : error.message}</p>
      {onRetry && !notFound && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** An error in one line, for a form or a toolbar: a refusal says it is one, before the server's reason. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError && error.status === 403) return `Not allowed (HTTP 403): ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Loading, error and empty states around a loaded value. */
export function Async<T>({ loaded, empty, isEmpty, children }: { loaded: Loaded<T>; empty?: ReactNode; isEmpty?: (data: T) => boolean; children: (data: T) => ReactNode }) {
  if (loaded.state === 'error') return <ErrorBox error={loaded.error} onRetry={loaded.reload} />;
  if (loaded.data === undefined) return <p role="status" className="muted">Loading…</p>;
  if (isEmpty?.(loaded.data)) return <p className="empty">{empty ?? 'Nothing here yet.'}</p>;
  return (
    <div aria-busy={loaded.state === 'loading'} className={loaded.state === 'loading' ? 'stale' : undefined}>
      {children(loaded.data)}
    </div>
  );
}

export function Pager({ page, totalPages, total, onPage, label = 'Pages' }: { page: number; totalPages: number; total?: number; onPage: (page: number) => void; label?: string }) {
  const last = Math.max(1, totalPages);
  if (last === 1 && page === 1) return total !== undefined ? <p className="muted small">{total} in all</p> : null;
  return (
    <>
      {page > last && <p role="status">Page {page} is past the end: there {last === 1 ? 'is 1 page' : `are ${last} pages`}.</p>}
      <nav aria-label={label} className="pager">
        <button type="button" onClick={() => onPage(1)} disabled={page <= 1}>First</button>
        <button type="button" onClick={() => onPage(Math.min(page - 1, last))} disabled={page <= 1}>Previous</button>
        <span>
          Page {page} of {last}
          {total !== undefined && ` · ${total} in all`}
        </span>
        <button type="button" onClick={() => onPage(page + 1)} disabled={page >= last}>Next</button>
        <button type="button" onClick={() => onPage(last)} disabled={page === last}>Last</button>
      </nav>
    </>
  );
}

/** A modal form: the title names it (role dialog), Escape or Cancel closes it, errors show inside. */
export function Dialog({ title, submitLabel, onSubmit, onClose, children, danger }: { title: string; submitLabel: string; onSubmit: () => Promise<void>; onClose: () => void; children?: ReactNode; danger?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit();
      onClose();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={onClose} className="dialog">
      <form onSubmit={submit}>
        <h2 id={titleId}>{title}</h2>
        {children}
        {error && (
          <p role="alert" className="error-text">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className={danger ? 'danger' : 'primary'} disabled={busy}>
            {submitLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

export function Field({ label, value, onChange, required, placeholder, type = 'text', multiline, pattern, autoFocus }: { label: string; value: string; onChange: (v: string) => void; required?: boolean; placeholder?: string; type?: string; multiline?: boolean; pattern?: string; autoFocus?: boolean }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {multiline ? (
        <textarea id={id} value={value} onChange={(e) => onChange(e.target.value)} required={required} placeholder={placeholder} rows={4} />
      ) : (
        <input id={id} type={type} value={value} onChange={(e) => onChange(e.target.value)} required={required} placeholder={placeholder} pattern={pattern} autoFocus={autoFocus} />
      )}
    </div>
  );
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function Tags({ tags }: { tags: string[] | null | undefined }) {
  if (!tags || tags.length === 0) return null;
  return (
    <span className="tags">
      {tags.map((t) => (
        <span key={t} className="tag">{t}</span>
      ))}
    </span>
  );
}

/** Comma-separated tags ↔ array. */
export function parseTags(text: string): string[] {
  return text.split(',').map((t) => t.trim()).filter(Boolean);
}
