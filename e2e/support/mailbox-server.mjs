#!/usr/bin/env node
// A real SMTP server process (npm smtp-server) for the scenarios: it listens on 127.0.0.1 (a free
// port, printed as "mailbox: listening on <port>") and writes every mail it receives to
// <dir>/<n>.eml, where a scenario reads it. Usage: node mailbox-server.mjs <dir>
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: mailbox-server.mjs <dir>');
  process.exit(2);
}
let count = 0;
const server = new SMTPServer({
  secure: false,
  disabledCommands: ['STARTTLS'],
  authOptional: true,
  logger: false,
  onData(stream, _session, done) {
    const chunks = [];
    stream.on('data', (d) => chunks.push(d));
    stream.on('end', () => {
      writeFileSync(join(dir, `${++count}.eml`), Buffer.concat(chunks));
      done();
    });
  },
});
server.listen(0, '127.0.0.1', () => console.log(`mailbox: listening on ${server.server.address().port}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
