import globalTeardown from '../../support/global-teardown.js';
import { destroyLab } from './lab.js';

/** Stop the platform, coturn and the mailbox, then remove the lab's namespaces and links. */
export default async function networksTeardown(): Promise<void> {
  try {
    await globalTeardown();
  } finally {
    destroyLab();
  }
}
