/** Floor 1: a bare Fastify server that answers the invoke route at once. The best any HTTP API here can do. */
import { serveFloor } from './floor-app.js';

await serveFloor('echo', () => '{"ok":true}');
