import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { captureTokenFromFragment } from './lib/auth.js';
import { loadMounts } from './lib/base.js';
import './styles.css';

captureTokenFromFragment();
// A login link opened in a tab that already shows the console only changes the fragment.
window.addEventListener('hashchange', captureTokenFromFragment);

void loadMounts().then(() => {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
});
