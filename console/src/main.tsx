import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { captureTokenFromFragment, syncWorkerToken } from './lib/auth.js';
import { BASE, loadMounts } from './lib/base.js';
import './styles.css';

captureTokenFromFragment();
// A login link opened in a tab that already shows the console only changes the fragment.
window.addEventListener('hashchange', captureTokenFromFragment);
syncWorkerToken();
if ('serviceWorker' in navigator) {
  // Adds the Bearer header to media requests so <video> and <audio> stream with range requests.
  navigator.serviceWorker.register(`${BASE}media-worker.js`, { scope: BASE }).catch(() => undefined);
}

void loadMounts().then(() => {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
});
