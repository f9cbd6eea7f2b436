/**
 * One server under test for perf/http-serve.bench.ts, in its own process (so its CPU can be read
 * from /proc): `node dist/perf/http-servers.js <kind> [tlsKey tlsCert]`. Prints `ready <port>
 * <pid>...` (every process whose CPU counts) once listening, then serves until killed.
 *
 * Kinds: node (node:http, one thread), cluster (node:cluster, 2 processes), piscina (node:http +
 * the CPU part on piscina, 2 threads), hono (Hono on @hono/node-server), shoal-fetch and
 * shoal-node (rt.serve, 2 workers, fetch-style and node-style handlers), node-tls, shoal-tls.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Runtime } from '../src/index.js';
import handlers, { answer, burn, node, roundsFor } from './http-handlers.js';

const [kind = 'node', keyFile, certFile] = process.argv.slice(2);
const tls =
  keyFile && certFile ? { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') } : undefined;

function listening(srv: Server): Promise<number> {
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as AddressInfo).port)));
}

async function main(): Promise<void> {
  switch (kind) {
    case 'node': {
      const port = await listening(createServer({ keepAliveTimeout: 60_000 }, node));
      console.log(`ready ${port} ${process.pid}`);
      return;
    }
    case 'node-tls': {
      const port = await listening(createHttpsServer({ ...tls!, keepAliveTimeout: 60_000 }, node) as unknown as Server);
      console.log(`ready ${port} ${process.pid}`);
      return;
    }
    case 'cluster': {
      if (cluster.isPrimary) {
        const pids: number[] = [];
        let port = 0;
        await Promise.all(
          [0, 1].map(
            () =>
              new Promise<void>((resolve) => {
                const w = cluster.fork();
                pids.push(w.process.pid!);
                w.on('listening', (a) => {
                  port = a.port;
                  resolve();
                });
              }),
          ),
        );
        console.log(`ready ${port} ${process.pid} ${pids.join(' ')}`);
      } else {
        // port 0 in a cluster: the primary gives every worker the same port
        createServer({ keepAliveTimeout: 60_000 }, node).listen(0, '127.0.0.1');
      }
      return;
    }
    case 'piscina': {
      const { Piscina } = await import('piscina');
      const pool = new Piscina({
        filename: new URL('./http-piscina-worker.js', import.meta.url).href,
        maxThreads: 2,
        minThreads: 2,
      });
      const srv = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
        const r = roundsFor(req.url);
        const cpu = r > 0 ? (pool.run(r) as Promise<number>) : Promise.resolve(0);
        cpu
          .then((c) => answer(req.url, c))
          .then((body) => {
            res.setHeader('content-type', 'text/plain');
            res.end(body);
          });
      });
      console.log(`ready ${await listening(srv)} ${process.pid}`);
      return;
    }
    case 'hono': {
      const { serve } = await import('@hono/node-server');
      const { Hono } = await import('hono');
      const app = new Hono();
      app.get('/hello', (c) => c.text('hello world'));
      app.get('/cpu200', async (c) => c.text(await answer('/cpu200', burn(roundsFor('/cpu200')))));
      app.get('/hybrid', async (c) => c.text(await answer('/hybrid', burn(roundsFor('/hybrid')))));
      const port = await new Promise<number>((resolve) =>
        serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port)),
      );
      console.log(`ready ${port} ${process.pid}`);
      return;
    }
    case 'shoal-fetch':
    case 'shoal-node':
    case 'shoal-tls': {
      const rt = await Runtime.start({ workers: 2 });
      const handler =
        kind === 'shoal-node'
          ? new URL('./http-node-style.js', import.meta.url)
          : new URL('./http-handlers.js', import.meta.url);
      const web = await rt.serve({
        port: 0,
        handler,
        tls: kind === 'shoal-tls' ? tls : undefined,
        keepAliveTimeout: 60_000,
      });
      console.log(`ready ${web.port} ${process.pid}`);
      return;
    }
    default:
      throw new Error(`unknown server kind ${kind}`);
  }
}

void handlers;
await main();
