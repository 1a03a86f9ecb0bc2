// A tiny static file server for the built page (dist/), with no dependencies.
//
// It serves `distDir` under a URL sub-path (default `/poolsim/`) on 127.0.0.1, so the
// tests catch any asset the page loads by an absolute path ("/index-abc.js" would 404).
//
//   import { serve } from './server.mjs';
//   const { url, close } = await serve('/work/main/dist');   // url = http://127.0.0.1:PORT/poolsim/
//
// Manual use:  node web/e2e/server.mjs [dist] [port]

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { resolve, join, extname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

function normalizePrefix(prefix) {
  let p = prefix || '/';
  if (!p.startsWith('/')) p = '/' + p;
  if (!p.endsWith('/')) p += '/';
  return p;
}

/**
 * Serve `distDir` under `prefix` on 127.0.0.1.
 * @param {string} distDir
 * @param {string} [prefix='/poolsim/']
 * @param {{port?: number, log?: boolean}} [options] port 0 (the default) picks an ephemeral port
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>}>}
 */
export async function serve(distDir, prefix = '/poolsim/', options = {}) {
  const root = resolve(distDir);
  const base = normalizePrefix(prefix);
  const log = options.log ?? false;

  const st = await stat(root).catch(() => null);
  if (!st || !st.isDirectory()) {
    throw new Error(`serve: ${root} is not a directory (build the page first: trunk build --release)`);
  }

  const server = createServer(async (req, res) => {
    const send = (status, body, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, {
        'Content-Type': type,
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      if (log) console.log(`${status} ${req.method} ${req.url}`);
    };

    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');

    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
    } catch {
      return send(400, 'bad request\n');
    }

    // "/poolsim" without the trailing slash: redirect, so relative asset URLs resolve.
    if (pathname === base.slice(0, -1)) {
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      res.writeHead(301, { Location: base + query, 'Content-Length': 0 });
      if (log) console.log(`301 ${req.method} ${req.url}`);
      return res.end();
    }
    if (!pathname.startsWith(base)) return send(404, 'not found\n');

    let rel = pathname.slice(base.length);
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    if (rel.includes('\0')) return send(400, 'bad request\n');
    const file = resolve(join(root, rel));
    if (file !== root && !file.startsWith(root + sep)) return send(404, 'not found\n');

    const type = MIME[extname(file).toLowerCase()];
    if (!type) return send(404, 'not found\n');

    let body;
    try {
      const fst = await stat(file);
      if (!fst.isFile()) return send(404, 'not found\n');
      body = await readFile(file);
    } catch {
      return send(404, 'not found\n');
    }
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    if (log) console.log(`200 ${req.method} ${req.url} ${body.length}`);
  });

  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}${base}`,
    port,
    close: () =>
      new Promise((ok) => {
        server.close(() => ok());
        server.closeAllConnections?.();
      }),
  };
}

// Runnable directly: node web/e2e/server.mjs [dist] [port]
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const dist = process.argv[2] ?? process.env.POOLSIM_DIST ?? resolve(here, '../../dist');
  const port = Number(process.argv[3] ?? 0);
  const { url, close } = await serve(dist, '/poolsim/', { port, log: true });
  console.log(`serving ${resolve(dist)} at ${url}  (Ctrl-C to stop)`);
  const stop = async () => {
    await close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
