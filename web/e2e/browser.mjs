// Shared browser helper for the page tests and the browser benchmark.
//
// - launches the system Chromium (Debian's /usr/bin/chromium, or env POOLSIM_CHROMIUM) through
//   playwright-core; never downloads a browser;
// - serves the built page (env POOLSIM_DIST, default /work/main/dist) under /poolsim/;
// - opens pages that record console errors, page errors (page and workers), failed requests
//   and HTTP errors, and block (and record) every request that is not to 127.0.0.1.

import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from './server.mjs';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const DIST = resolve(process.env.POOLSIM_DIST ?? resolve(ROOT, 'dist'));
export const CHROMIUM = process.env.POOLSIM_CHROMIUM ?? '/usr/bin/chromium';

// Flags from /work/shared/TOOLCHAIN.md. The host-resolver rule is a second fence behind the
// request routing below: nothing but 127.0.0.1 can resolve, even from a worker.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/** Launch Chromium. */
export async function launch() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set POOLSIM_CHROMIUM)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    // Playwright's own default args are kept; ours are appended.
  });
}

/** Serve the built page; resolves to {url, close}. url ends with the sub-path, e.g. /poolsim/. */
export async function serveDist(prefix = '/poolsim/') {
  if (!existsSync(resolve(DIST, 'index.html'))) {
    throw new Error(
      `no built page at ${DIST}/index.html: run 'trunk build --release' (or set POOLSIM_DIST)`,
    );
  }
  return serve(DIST, prefix);
}

function isLocal(url) {
  if (url.startsWith('data:') || url.startsWith('blob:') || url.startsWith('about:')) return true;
  try {
    const u = new URL(url);
    return u.hostname === '127.0.0.1';
  } catch {
    return false;
  }
}

/**
 * Open a page in a fresh context that records problems.
 * @param {import('playwright-core').Browser} browser
 * @param {{viewport?: {width:number,height:number}, initScript?: Function|string, initArg?: any}} [opts]
 * @returns {Promise<{context, page, log: {console: string[], pageErrors: string[], failed: string[],
 *   httpErrors: string[], blocked: string[], responses: import('playwright-core').Response[]},
 *   problems: () => string, close: () => Promise<void>}>}
 */
export async function openPage(browser, opts = {}) {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1280, height: 900 },
    serviceWorkers: 'block',
    acceptDownloads: true,
  });
  const log = {
    console: [], // console.error (page and workers)
    warnings: [], // console.warn, for information only
    pageErrors: [], // uncaught exceptions / unhandled rejections
    failed: [], // requests that failed (network level), other than blocked ones
    httpErrors: [], // responses with status >= 400
    blocked: [], // requests to anything but 127.0.0.1 (aborted)
  };

  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    if (!log.blocked.includes(url)) log.blocked.push(url);
    return route.abort('blockedbyclient');
  });
  // Requests a route might not see (e.g. from a worker) still show up here.
  context.on('request', (req) => {
    const url = req.url();
    if (!isLocal(url) && !log.blocked.includes(url)) log.blocked.push(url);
  });
  context.on('requestfailed', (req) => {
    const url = req.url();
    if (!isLocal(url)) return; // counted as blocked
    log.failed.push(`${req.method()} ${url}: ${req.failure()?.errorText ?? 'failed'}`);
  });
  context.on('response', (res) => {
    if (res.status() >= 400) log.httpErrors.push(`${res.status()} ${res.url()}`);
  });
  context.on('weberror', (err) => {
    const e = err.error();
    log.pageErrors.push(`${e?.name ?? 'Error'}: ${e?.message ?? e}`);
  });

  const page = await context.newPage();
  const onConsole = (where) => (msg) => {
    const loc = msg.location();
    const at = loc?.url ? ` (${loc.url}:${loc.lineNumber})` : '';
    if (msg.type() === 'error') log.console.push(`${where}${msg.text()}${at}`);
    else if (msg.type() === 'warning') log.warnings.push(`${where}${msg.text()}${at}`);
  };
  // With playwright-core 1.61 the page's console event also carries its dedicated workers'
  // messages (checked), so no separate worker listener (it would count them twice).
  page.on('console', onConsole(''));
  if (opts.initScript) await page.addInitScript(opts.initScript, opts.initArg);

  const problems = () => {
    const parts = [];
    const add = (label, list) => {
      if (list.length) parts.push(`${label} (${list.length}):\n  ${[...new Set(list)].join('\n  ')}`);
    };
    add('console errors', log.console);
    add('page errors', log.pageErrors);
    add('failed requests', log.failed);
    add('HTTP errors', log.httpErrors);
    add('blocked off-host requests', log.blocked);
    return parts.join('\n');
  };

  return { context, page, log, problems, close: () => context.close() };
}

// ---------------------------------------------------------------------------------------------
// Page helpers shared by tests and benchmark (they rely only on web/CONTRACT.md).

export const ROOT_SEL = 'main#poolsim';
export const CHARTS = ['pool', 'db', 'throughput', 'percentiles', 'distribution'];

/** Wait until main#poolsim has data-state=done (or fail with the state and page problems). */
export async function waitDone(page, { timeout = 30_000, what = 'the run' } = {}) {
  try {
    await page.waitForSelector(`${ROOT_SEL}[data-state="done"]`, { timeout, state: 'attached' });
  } catch (e) {
    const state = await page
      .$eval(ROOT_SEL, (m) => m.getAttribute('data-state'))
      .catch(() => '(no main#poolsim)');
    throw new Error(`${what}: main#poolsim never reached data-state="done" within ${timeout} ms (state: ${state})`);
  }
  return page.$eval(ROOT_SEL, (m) => m.getAttribute('data-digest'));
}

/**
 * Start watching main#poolsim's data-state / data-digest, so that a later `waitNewRun` sees a
 * run that starts and finishes even faster than a poll would catch it.
 */
export async function watchRuns(page) {
  await page.evaluate((sel) => {
    const w = (window.__poolsimWatch = { states: [], digest: null });
    const m = document.querySelector(sel);
    w.digest = m?.getAttribute('data-digest') ?? null;
    w.startState = m?.getAttribute('data-state') ?? null;
    if (window.__poolsimObserver) window.__poolsimObserver.disconnect();
    const obs = (window.__poolsimObserver = new MutationObserver((records) => {
      for (const r of records) {
        const t = r.target;
        if (!(t instanceof Element) || !t.matches(sel)) continue;
        if (r.attributeName === 'data-state') w.states.push(t.getAttribute('data-state'));
      }
    }));
    obs.observe(document.documentElement, {
      subtree: true,
      attributes: true,
      attributeFilter: ['data-state', 'data-digest'],
    });
  }, ROOT_SEL);
}

/**
 * After `watchRuns`: wait until a new run has finished, i.e. data-state is "done" now and either
 * went through another state since watchRuns, or data-digest differs from the one then.
 * Returns the new digest.
 */
export async function waitNewRun(page, { timeout = 30_000, what = 'the run' } = {}) {
  try {
    await page.waitForFunction(
      (sel) => {
        const w = window.__poolsimWatch;
        const m = document.querySelector(sel);
        if (!w || !m || m.getAttribute('data-state') !== 'done') return false;
        return w.states.some((s) => s !== 'done') || m.getAttribute('data-digest') !== w.digest;
      },
      ROOT_SEL,
      { timeout, polling: 'raf' },
    );
  } catch {
    const info = await page
      .evaluate((sel) => {
        const m = document.querySelector(sel);
        return {
          state: m?.getAttribute('data-state'),
          digest: m?.getAttribute('data-digest'),
          seen: window.__poolsimWatch?.states,
          before: window.__poolsimWatch?.digest,
        };
      }, ROOT_SEL)
      .catch((e) => ({ error: String(e) }));
    throw new Error(
      `${what}: no new completed run within ${timeout} ms (data-state=${info.state}, ` +
        `states seen=${JSON.stringify(info.seen)}, digest ${info.before} -> ${info.digest})`,
    );
  }
  return page.$eval(ROOT_SEL, (m) => m.getAttribute('data-digest'));
}

/** Fill a control and commit it with Tab (the contract's change event), then wait for the run. */
export async function setControl(page, name, value, { wait = true, timeout } = {}) {
  const input = page.locator(`[name="${name}"]`).first();
  if (wait) await watchRuns(page);
  await input.fill(String(value));
  await input.press('Tab');
  if (wait) return waitNewRun(page, { timeout, what: `after setting ${name}=${value}` });
  return null;
}

/** The URL of the page with a scenario object in the hash. */
export function scenarioUrl(base, scenario, query = '') {
  return `${base}${query}#s=${encodeURIComponent(JSON.stringify(scenario))}`;
}
