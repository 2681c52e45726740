import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { notFound, toErrorResponse } from '@fusionflow/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApp } from './http-app.js';

const API_PREFIXES = ['/api/', '/.well-known/', '/socket.io/', '/metrics', '/healthz', '/readyz', '/docs'];

function sendNotFound(_request: FastifyRequest, reply: FastifyReply) {
  const { status, body } = toErrorResponse(notFound('no such endpoint'));
  return reply.code(status).send(body);
}

/**
 * Serve the built single-page app: files as they are (hashed assets cached for a year), and
 * index.html for any other page URL so client-side routes survive a reload. API paths always get
 * a JSON 404. Without a build the API still works and pages answer 404.
 */
export async function registerWebApp(app: HttpApp, dir: string | undefined): Promise<boolean> {
  if (!dir || !existsSync(join(dir, 'index.html'))) {
    app.setNotFoundHandler(sendNotFound);
    return false;
  }
  await app.register(fastifyStatic, {
    root: dir,
    wildcard: false,
    index: false,
    setHeaders: (reply, path) => {
      reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.setNotFoundHandler((request, reply) => {
    const isPage =
      (request.method === 'GET' || request.method === 'HEAD') &&
      !API_PREFIXES.some((p) => request.url.startsWith(p)) &&
      (request.headers.accept ?? '').includes('text/html');
    if (!isPage) return sendNotFound(request, reply);
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html');
  });
  return true;
}
