import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import './i18n/i18n';

// Each test renders into a fresh document.
afterEach(() => {
  cleanup();
});
