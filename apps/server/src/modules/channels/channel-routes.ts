import { Channel, ChannelParams, ErrorBody } from '@fusionflow/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/http-app.js';
import type { ChannelService } from './channel-service.js';

const errors = { 400: ErrorBody, 404: ErrorBody, 429: ErrorBody };

/** A streamer's channel by its handle (see docs/protocol.md). */
export function registerChannelRoutes(app: HttpApp, channels: ChannelService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/api/channels/:handle', {
    schema: {
      tags: ['channels'],
      summary: 'A channel: its owner, the broadcast live now (if any) and the latest one; 404 channel_not_found',
      params: ChannelParams,
      response: { 200: Channel, ...errors },
    },
    handler: async (request) => channels.get(request.params.handle),
  });
}
