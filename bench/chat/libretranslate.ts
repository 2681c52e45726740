// The chat benchmark's LibreTranslate-compatible engine, in a process of its own (so its CPU time is not
// billed to the server): the test suite's server (`POST /translate`, `GET /languages`) forwarding to the
// Apertium APy whose URL is the first argument. Tells its parent the URL over IPC; ends with the parent.
import { startLibreTranslate } from '../../apps/server/src/modules/chat/test-libretranslate.js';

const apertiumUrl = process.argv[2];
if (!apertiumUrl) throw new Error('usage: libretranslate.ts <apertium url>');
const server = await startLibreTranslate(apertiumUrl);
const stop = () => {
  void server.close().finally(() => process.exit(0));
};
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.send!({ type: 'listening', url: server.url });
