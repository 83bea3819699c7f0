import { Component, type ReactNode } from 'react';

/** What the browsers say when a lazy chunk (import()) or its CSS does not arrive. */
const CHUNK_FAILED = /dynamically imported module|Importing a module script failed|Unable to preload/i;

/**
 * Catches what a page throws while rendering, a route chunk that failed to load included (the server is
 * down, or was updated and no longer has this tab's chunks): says so with a Reload button instead of leaving
 * the app blank. Another path (`resetKey`) tries again.
 */
export class ErrorBoundary extends Component<{ resetKey: string; children: ReactNode }, { error: Error | null }> {
  state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  componentDidUpdate(prev: { resetKey: string }) {
    if (this.state.error && prev.resetKey !== this.props.resetKey) this.setState({ error: null });
  }

  render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <section className="page narrow">
        <div role="alert" className="error-box">
          <strong>Could not load this page</strong>
          <p>
            {CHUNK_FAILED.test(error.message)
              ? 'Part of the console did not arrive: the server may be unreachable, or it was updated since this tab opened. Reload to get the current version.'
              : `The page failed to show: ${error.message}`}
          </p>
          <button type="button" onClick={() => location.reload()}>Reload</button>
        </div>
      </section>
    );
  }
}
