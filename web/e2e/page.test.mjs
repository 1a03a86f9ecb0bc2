// Browser tests of the built page against web/CONTRACT.md.
//
//   npm run e2e                      (after `trunk build --release`)
//   POOLSIM_DIST=... POOLSIM_CHROMIUM=... POOLSIM_CLI=... npm run e2e
//
// One Chromium for the file; a shared page for the tests that only change controls, fresh pages
// where a test needs a clean history or URL.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ROOT,
  ROOT_SEL,
  CHARTS,
  launch,
  openPage,
  serveDist,
  waitDone,
  watchRuns,
  waitNewRun,
  setControl,
  scenarioUrl,
} from './browser.mjs';

const CLI = process.env.POOLSIM_CLI ?? resolve(ROOT, 'target/release/poolsim');
const SCENARIOS = resolve(ROOT, 'tests/scenarios');
const SCREENSHOTS = resolve(ROOT, 'target/screenshots');
const POOL = 'app.pool.max_size';
const PRESETS = [
  'baseline',
  'outage',
  'outage-fix', 'outage-replay',
  'failover',
  'rolling-restart',
  'retry-storm',
  'leak',
  'slow-queries',
];
const VERDICTS = ['healthy', 'saturated', 'exhausted'];
const RUN_TIMEOUT = 60_000; // one run; the longest presets simulate 30 min of a 12-instance fleet
const TEST_TIMEOUT = { timeout: 180_000 };

let browser;
let server;
let shared; // {page, log, problems, close} reused by the control tests
const opened = [];
const cliCache = new Map();

async function scenario(name) {
  return JSON.parse(await readFile(join(SCENARIOS, `${name}.json`), 'utf8'));
}

/** The native CLI's `--format json` summary of a scenario file (cached). */
/** `poolsim run NAME --format text`'s theory rows: name -> theory text, and its note as `(note)`. */
function cliTheoryRows(name) {
  return new Promise((ok, fail) => {
    execFile(CLI, ['run', join(SCENARIOS, `${name}.json`)], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return fail(new Error(`${CLI} run ${name} failed: ${err.message}\n${stderr}`));
      const rows = new Map();
      const lines = stdout.split('\n');
      for (const line of lines.slice(lines.indexOf('Theory beside measurement') + 1)) {
        const [, label, text] = line.split(/\s{2,}/);
        if (label && text) rows.set(label, text);
        else if (label?.startsWith('(')) rows.set('(note)', label.slice(1, -1));
      }
      ok(rows);
    });
  });
}

function cliSummary(name) {
  if (!cliCache.has(name)) {
    const file = join(SCENARIOS, `${name}.json`);
    cliCache.set(
      name,
      new Promise((ok, fail) => {
        if (!existsSync(CLI)) {
          return fail(new Error(`native CLI not found at ${CLI} (cargo build --release, or set POOLSIM_CLI)`));
        }
        execFile(CLI, ['run', file, '--format', 'json'], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
          if (err) return fail(new Error(`${CLI} run ${file} failed: ${err.message}\n${stderr}`));
          ok(JSON.parse(stdout));
        });
      }),
    );
    cliCache.get(name).catch(() => {}); // reported when awaited
  }
  return cliCache.get(name);
}

async function fresh(opts) {
  const p = await openPage(browser, opts);
  opened.push(p);
  return p;
}

/** A fresh page showing the finished run of `tests/scenarios/<name>.json`. */
async function freshWith(name) {
  const p = await fresh();
  await p.page.goto(scenarioUrl(server.url, await scenario(name)));
  await waitDone(p.page, { timeout: RUN_TIMEOUT, what: name });
  return p;
}

/** A fresh page showing the finished first run of the page as served (no link). */
async function freshDefault() {
  const p = await fresh();
  await p.page.goto(server.url);
  await waitDone(p.page, { timeout: RUN_TIMEOUT, what: 'first run' });
  return p;
}

/** Fails on any uncaught error the page had, then closes it. */
async function closeClean(p) {
  assert.equal(p.log.pageErrors.length, 0, `page errors:\n  ${p.log.pageErrors.join('\n  ')}`);
  await p.close();
}

async function sharedPage() {
  if (!shared) {
    shared = await fresh();
    await shared.page.goto(server.url);
    await waitDone(shared.page, { timeout: RUN_TIMEOUT, what: 'first run of the page' });
  }
  return shared.page;
}

async function verdict(page) {
  return page
    .locator('[data-testid="verdict"]')
    .first()
    .getAttribute('data-verdict', { timeout: 5_000 })
    .catch(() => null);
}

async function digest(page) {
  return page.$eval(ROOT_SEL, (m) => m.getAttribute('data-digest'));
}

/** Map "chart/series" -> path d, for every line of every chart. */
async function chartPaths(page) {
  const pairs = await page.$$eval('figure[data-chart] path[data-series]', (paths) =>
    paths.map((p) => [
      `${p.closest('figure').getAttribute('data-chart')}/${p.getAttribute('data-series')}` +
        (p.hasAttribute('data-baseline') ? '/baseline' : ''),
      p.getAttribute('d') ?? '',
    ]),
  );
  return new Map(pairs);
}

/** Assert the five charts are there, each with one svg and at least one non-empty line. */
async function assertCharts(page, when) {
  const info = await page.$$eval('figure[data-chart]', (figs) =>
    figs.map((f) => ({
      chart: f.getAttribute('data-chart'),
      svgs: f.querySelectorAll('svg.chart').length,
      lines: [...f.querySelectorAll('path[data-series]')].filter((p) => (p.getAttribute('d') ?? '').trim().length > 1)
        .length,
      saveSvg: f.querySelectorAll('[data-action="save-svg"]').length,
      savePng: f.querySelectorAll('[data-action="save-png"]').length,
    })),
  );
  for (const chart of CHARTS) {
    const figs = info.filter((i) => i.chart === chart);
    assert.equal(figs.length, 1, `${when}: expected one figure[data-chart="${chart}"], found ${figs.length}`);
    const [f] = figs;
    assert.equal(f.svgs, 1, `${when}: figure[data-chart="${chart}"] should hold exactly one <svg class="chart">, has ${f.svgs}`);
    assert.ok(f.lines > 0, `${when}: figure[data-chart="${chart}"] has no path[data-series] with a non-empty d`);
  }
  return info;
}

function hashScenario(url) {
  const hash = new URL(url).hash;
  assert.ok(hash.startsWith('#s='), `the URL should hold the scenario in its hash (#s=...), got ${url}`);
  return JSON.parse(decodeURIComponent(hash.slice(3)));
}

async function nextFrames(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

before(async () => {
  // Start the CLI runs early; they overlap with the browser work.
  cliSummary('default');
  cliSummary('outage');
  server = await serveDist('/poolsim/');
  browser = await launch();
});

after(async () => {
  for (const p of opened) await p.close().catch(() => {});
  await browser?.close().catch(() => {});
  await server?.close().catch(() => {});
});

test('loads under the sub-path, runs, draws five charts and a verdict, without errors or network', TEST_TIMEOUT, async () => {
  const p = await fresh();
  const response = await p.page.goto(server.url);
  assert.equal(response?.status(), 200, `GET ${server.url} should be 200, was ${response?.status()}`);
  await waitDone(p.page, { timeout: RUN_TIMEOUT, what: 'first run of the page' });

  const mode = await p.page.$eval(ROOT_SEL, (m) => m.getAttribute('data-mode'));
  assert.equal(mode, 'full', `main#poolsim should have data-mode="full" without ?embed, got ${mode}`);
  const d = await digest(p.page);
  assert.match(d ?? '', /^[0-9a-f]+$/i, `data-digest should be hex when done, got ${JSON.stringify(d)}`);

  const info = await assertCharts(p.page, 'after the first run');
  for (const f of info) {
    assert.ok(f.saveSvg >= 1 && f.savePng >= 1, `figure[data-chart="${f.chart}"] lacks save-svg/save-png buttons`);
  }
  const v = await verdict(p.page);
  assert.ok(VERDICTS.includes(v), `[data-testid="verdict"] should have data-verdict in ${VERDICTS}, got ${v}`);
  assert.equal(await p.page.locator('[data-testid="summary"]').count(), 1, '[data-testid="summary"] is missing');
  // Theory's side of each row is the CLI's, word for word (one explanation layer for both).
  const cliTheory = await cliTheoryRows('default');
  for (const name of ['offered load (Little\'s law)', 'Erlang C', 'pool capacity']) {
    const cell = p.page.locator(`[data-theory="${name}"] td`).first();
    const shown = await cell.evaluate((td) => td.firstChild?.textContent ?? '');
    assert.equal(shown, cliTheory.get(name), `theory row ${name}: the page and poolsim run should say the same`);
  }
  // The round-robin caveat sits under Erlang C's answer, in the muted colour, not run on.
  const note = await p.page.$eval('[data-theory="Erlang C"] .note', (n) => {
    const style = getComputedStyle(n);
    const cell = getComputedStyle(n.parentElement);
    return { text: n.textContent, display: style.display, muted: style.color !== cell.color };
  });
  assert.deepEqual(
    note,
    { text: cliTheory.get('(note)'), display: 'block', muted: true },
    'the Erlang C note should be its own muted line',
  );
  await p.page.waitForTimeout(300); // late console errors / requests
  // Console errors, page errors, failed requests, HTTP errors, off-host requests: all must be empty.
  assert.equal(p.problems(), '', `the page should load without errors and without network:\n${p.problems()}`);

  shared ??= p; // reuse this page for the control tests
});

test('shrinking the pool below the offered load changes the verdict and the charts, and back', TEST_TIMEOUT, async () => {
  // The default fleet (12 pools of 10 for 5.2 erlangs) has room at any pool size; one
  // instance carrying all 800 req/s does not: 5.2 erlangs on 4 connections cannot keep up.
  const page = await sharedPage();
  const input = page.locator(`input[name="${POOL}"]`);
  assert.equal(await input.count(), 1, `expected one input[name="${POOL}"]`);
  const original = await input.inputValue();
  const instances = await page.locator('input[name="app.instances"]').inputValue();
  await setControl(page, 'app.instances', 1, { timeout: RUN_TIMEOUT });
  const v0 = await verdict(page);
  assert.equal(v0, 'healthy', `one instance with ${POOL}=${original} should be healthy, got ${v0}`);
  const d0 = await digest(page);
  const paths0 = await chartPaths(page);

  const d1 = await setControl(page, POOL, 4, { timeout: RUN_TIMEOUT });
  const v1 = await verdict(page);
  const summary = await page.locator('[data-testid="summary"]').first().innerText().catch(() => '');
  assert.ok(
    v1 === 'saturated' || v1 === 'exhausted',
    `with ${POOL}=4 the verdict should be saturated or exhausted, got ${v1} (was ${v0} at ${original}).\n` +
      `summary: ${summary.slice(0, 400)}`,
  );
  assert.notEqual(d1, d0, 'the digest did not change with the pool size');
  const paths1 = await chartPaths(page);
  const changed = [...paths1].filter(([k, d]) => paths0.get(k) !== d).map(([k]) => k);
  assert.ok(changed.length > 0, 'no chart path d changed after the pool size changed');

  const d2 = await setControl(page, POOL, original, { timeout: RUN_TIMEOUT });
  assert.equal(await verdict(page), v0, `back at ${POOL}=${original} the verdict should be ${v0} again`);
  assert.equal(d2, d0, `back at ${POOL}=${original} the run should be identical (same data-digest)`);
  await setControl(page, 'app.instances', instances, { timeout: RUN_TIMEOUT });
  assert.equal(shared.log.pageErrors.length, 0, `page errors:\n  ${shared.log.pageErrors.join('\n  ')}`);
});

test('a bad value shows an error at the field and keeps the last good run', TEST_TIMEOUT, async () => {
  const page = await sharedPage();
  const input = page.locator(`input[name="${POOL}"]`);
  const original = await input.inputValue();
  const d0 = await digest(page);

  await setControl(page, POOL, 0, { wait: false });
  const err = page.locator(`[data-error-for="${POOL}"]`).first();
  await err.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {
    throw new Error(`[data-error-for="${POOL}"] did not become visible after ${POOL}=0`);
  });
  const text = await err.innerText();
  assert.match(text, /at least 1/, `the error for ${POOL}=0 should say "at least 1", got ${JSON.stringify(text)}`);
  assert.equal(await input.getAttribute('aria-invalid'), 'true', `input[name="${POOL}"] should have aria-invalid="true"`);
  await page.waitForTimeout(300); // a wrongly started run would have begun by now
  await assertCharts(page, `with ${POOL}=0`);
  assert.equal(await digest(page), d0, 'a bad value should keep the last good run (data-digest changed)');

  // A negative, fractional or too large number says what the field takes, in words.
  for (const typed of ['-3', '2.5', '4294967296']) {
    await setControl(page, POOL, typed, { wait: false });
    await page.waitForFunction(([sel, t]) => document.querySelector(sel)?.textContent.includes(t),
      [`[data-error-for="${POOL}"]`, 'must be a whole number from 1 to'], { timeout: 10_000 });
    assert.equal(await digest(page), d0, `${POOL}=${typed} keeps the last good run`);
  }

  // A second bad field gets its own message while the first is still bad, and a rule
  // between two fields is told at both.
  const instances = await page.locator('input[name="app.instances"]').inputValue();
  const maxConnections = await page.locator('input[name="database.max_connections"]').inputValue();
  await setControl(page, 'app.instances', 0, { wait: false });
  await setControl(page, 'database.max_connections', 3, { wait: false });
  const shownErrors = async () =>
    page.$$eval('[data-error-for]:not([hidden])', (es) => Object.fromEntries(es.map((e) => [e.dataset.errorFor, e.textContent])));
  await page.waitForFunction(() => document.querySelectorAll('[data-error-for]:not([hidden])').length >= 4, null, { timeout: 10_000 })
    .catch(async () => { throw new Error(`errors shown: ${JSON.stringify(await shownErrors())}`); });
  const shownNow = await shownErrors();
  assert.match(shownNow[POOL], /must be a whole number from 1 to/);
  assert.match(shownNow['app.instances'], /at least 1/);
  assert.match(shownNow['database.max_connections'], /must be above reserved_connections \(3\)/);
  assert.match(shownNow['database.reserved_connections'], /must be below max_connections \(3\)/);
  await setControl(page, 'app.instances', instances, { wait: false });
  await setControl(page, 'database.max_connections', maxConnections, { wait: false });

  // Fix it again: the error goes away.
  await setControl(page, POOL, original, { wait: false });
  await err.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {
    throw new Error(`[data-error-for="${POOL}"] is still visible after restoring ${POOL}=${original}`);
  });
  assert.notEqual(await input.getAttribute('aria-invalid'), 'true', 'aria-invalid should be cleared after a good value');
  await waitDone(page, { timeout: RUN_TIMEOUT, what: 'after restoring the value' });
  assert.equal(shared.log.pageErrors.length, 0, `page errors:\n  ${shared.log.pageErrors.join('\n  ')}`);
});

test('edits made during a run win: typed keys survive progress, each change restarts the run with it', TEST_TIMEOUT, async () => {
  // A 24 h default run takes many seconds: every step below happens while it runs.
  const p = await fresh();
  const { page } = p;
  await page.goto(scenarioUrl(server.url, { duration: '24h' }));
  await page.waitForSelector(`${ROOT_SEL}[data-state="running"]`);
  const pool = page.locator(`input[name="${POOL}"]`);
  await pool.click({ clickCount: 3 });
  await page.keyboard.type('20');
  await page.waitForTimeout(1000); // several progress renders
  assert.equal(await page.getAttribute(ROOT_SEL, 'data-state'), 'running');
  assert.equal(await pool.inputValue(), '20', 'the keys typed are still there after a second of progress');
  await page.keyboard.press('Tab');
  const instances = page.locator('input[name="app.instances"]');
  await instances.click({ clickCount: 3 });
  await page.keyboard.type('6');
  await page.keyboard.press('Tab');
  await page.waitForTimeout(300);
  assert.equal(await pool.inputValue(), '20');
  assert.equal(await instances.inputValue(), '6');
  const hashed = () => JSON.parse(decodeURIComponent(new URL(page.url()).hash.replace(/^#s=/, '')));
  const edited = hashed();
  assert.equal(edited.app.pool.max_size, 20, 'the URL holds the first edit');
  assert.equal(edited.app.instances, 6, 'and the second, made while the first edit was running');
  // The run that finishes is the edited scenario's, bit for bit the CLI's (shortened so the
  // test need not wait a simulated day).
  await pool.click({ clickCount: 3 });
  await page.keyboard.type('21');
  await page.locator('input[name="duration"]').fill('10m');
  await page.locator('input[name="duration"]').press('Tab');
  const shown = await waitDone(page, { timeout: RUN_TIMEOUT, what: 'the edited run' });
  const final = hashed();
  assert.equal(final.app.pool.max_size, 21, 'an edit left without Tab is taken when another field changes');
  assert.equal(final.app.instances, 6);
  const dir = await mkdtemp(join(tmpdir(), 'poolsim-edit-'));
  const file = join(dir, 'edited.json');
  await writeFile(file, JSON.stringify(final));
  const cli = await new Promise((ok, fail) => execFile(CLI, ['run', file, '--format', 'json'], { maxBuffer: 64 << 20 },
    (err, stdout, stderr) => (err ? fail(new Error(stderr)) : ok(JSON.parse(stdout)))));
  await rm(dir, { recursive: true });
  assert.equal(shown, cli.digest, 'the page shows the run of the scenario as edited');

  // Stop ends a long run; the finished run stays, and nothing more arrives for the stopped one.
  await page.locator('input[name="duration"]').fill('24h');
  await page.locator('input[name="duration"]').press('Tab');
  await page.waitForSelector(`${ROOT_SEL}[data-state="running"]`);
  await page.waitForTimeout(500);
  await page.click('[data-action="stop"]');
  await page.waitForSelector(`${ROOT_SEL}[data-state="done"]`, { timeout: 2_000 });
  assert.match(await page.textContent('[data-testid="status"]'), /^Stopped at \S+ of simulated time$/);
  await page.waitForTimeout(800);
  assert.equal(await page.getAttribute(ROOT_SEL, 'data-state'), 'done', 'the stopped run does not come back');
  assert.equal(await page.getAttribute(ROOT_SEL, 'data-digest'), shown, 'the last finished run stays on screen');
  await closeClean(p);
});

test('a run estimated past the event budget is refused at its field, before it starts', TEST_TIMEOUT, async () => {
  // 30 days of the default load: about 1.3 billion events, 13 times the default budget.
  const p = await fresh();
  const { page } = p;
  await page.goto(scenarioUrl(server.url, { duration: '720h' }));
  const err = page.locator('[data-error-for="duration"]');
  await err.waitFor({ state: 'visible', timeout: 10_000 });
  const text = (await err.textContent()).trim();
  assert.ok(
    text.startsWith('the run would take about 1.3 billion events, more than limits.max_events allows (100,000,000); '
      + '1.3 billion of them from 259 million requests'),
    `the duration field should say why the run is refused: ${JSON.stringify(text)}`,
  );
  assert.ok(text.endsWith('or raise limits.max_events'), `and how to run it anyway: ${JSON.stringify(text)}`);
  assert.equal(await page.getAttribute('input[name="duration"]', 'aria-invalid'), 'true');
  await page.waitForTimeout(500);
  assert.notEqual(await page.getAttribute(ROOT_SEL, 'data-state'), 'running', 'no run starts for a refused scenario');
  // A duration within the budget clears the refusal and runs.
  await page.locator('input[name="duration"]').fill('10m');
  await page.locator('input[name="duration"]').press('Tab');
  await waitDone(page, { timeout: RUN_TIMEOUT, what: 'the 10m run after the refusal' });
  assert.ok(await err.isHidden(), 'the refusal is gone once the duration fits');
  await closeClean(p);
});

test('pin keeps the run as a baseline drawn beside the next run', TEST_TIMEOUT, async () => {
  const page = await sharedPage();
  const input = page.locator(`input[name="${POOL}"]`);
  const v = await input.inputValue();
  await page.locator('[data-action="pin"]').first().click();
  await setControl(page, POOL, v === '7' ? '8' : '7', { timeout: RUN_TIMEOUT });
  const n = await page.locator('path[data-baseline]').count();
  assert.ok(n > 0, 'after pin and a change, the charts should draw path[data-baseline]');

  const unpin = page.locator('[data-action="unpin"]').first();
  if (await unpin.count()) {
    await unpin.click();
    await page
      .waitForFunction(() => document.querySelectorAll('path[data-baseline]').length === 0, null, { timeout: 10_000 })
      .catch(() => {
        throw new Error('after unpin the charts still draw path[data-baseline]');
      });
  }
  assert.equal(shared.log.pageErrors.length, 0, `page errors:\n  ${shared.log.pageErrors.join('\n  ')}`);
});

test('a bad scenario in the URL hash shows a message, never a blank page', TEST_TIMEOUT, async () => {
  const zero = await scenario('default');
  zero.app.pool.max_size = 0;
  const unknown = await scenario('default');
  unknown.app.pool.bogus_field = 1;
  const cases = [
    { label: `${POOL}=0`, scenario: zero, expect: /at least 1/ },
    { label: 'an unknown field app.pool.bogus_field', scenario: unknown, expect: /bogus_field/ },
  ];
  for (const c of cases) {
    const p = await fresh();
    await p.page.goto(scenarioUrl(server.url, c.scenario));
    await p.page.waitForSelector(ROOT_SEL, { state: 'attached', timeout: 30_000 }).catch(() => {
      throw new Error(`with ${c.label} in the hash the page has no main#poolsim`);
    });
    const shown = await p.page
      .waitForFunction((re) => new RegExp(re).test(document.body.innerText), c.expect.source, { timeout: 20_000 })
      .then(() => true)
      .catch(() => false);
    const mainText = (await p.page.$eval(ROOT_SEL, (m) => m.innerText).catch(() => '')).trim();
    assert.ok(mainText.length > 0, `with ${c.label} in the hash main#poolsim is blank`);
    assert.ok(
      shown,
      `with ${c.label} in the hash the page should show a message matching ${c.expect} (at the field or in ` +
        `an error panel); main#poolsim shows: ${JSON.stringify(mainText.slice(0, 300))}`,
    );
    assert.equal(p.log.pageErrors.length, 0, `page errors with ${c.label}:\n  ${p.log.pageErrors.join('\n  ')}`);
    assert.equal(p.log.blocked.length, 0, `off-host requests:\n  ${p.log.blocked.join('\n  ')}`);
    await p.close();
  }
});

test('a link that is JSON but not a scenario gets a banner and the default scenario, without a long task', TEST_TIMEOUT, async () => {
  const many = await scenario('default');
  many.timeline = { moments: Array.from({ length: 5000 }, (_, i) => ({ at: `${i}s`, kind: 'note', label: 'x' })) };
  const cases = [
    { label: 'null', json: 'null', expect: /is null, not a scenario/ },
    { label: '[1,2,3]', json: '[1,2,3]', expect: /is a list \[\.\.\.\], not a scenario/ },
    { label: 'an unknown field', json: '{"bogus":1}', expect: /does not know: bogus: unknown field "bogus"/ },
    { label: '5,000 moments', json: JSON.stringify(many), expect: /lists 5,000 items in timeline\.moments; a scenario may have at most 100/ },
  ];
  const defaultDigest = (await cliSummary('default')).digest;
  for (const c of cases) {
    const p = await fresh({
      initScript: () => {
        window.__longTasks = [];
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) window.__longTasks.push(Math.round(e.duration));
        }).observe({ type: 'longtask', buffered: true });
      },
    });
    await p.page.goto(`${server.url}#s=${encodeURIComponent(c.json)}`);
    const got = await waitDone(p.page, { timeout: RUN_TIMEOUT, what: `the default scenario after ${c.label}` });
    assert.equal(got, defaultDigest, `after ${c.label} the page runs the default scenario`);
    const banner = await p.page.textContent('[data-testid="problems"]');
    assert.match(banner, /^This link could not be read: the link's scenario /, banner);
    assert.match(banner, c.expect, banner);
    assert.match(banner, /Showing the default scenario\.$/, banner);
    const long = await p.page.evaluate(() => window.__longTasks.filter((d) => d > 100));
    assert.deepEqual(long, [], `${c.label}: main-thread tasks over 100 ms`);
    await closeClean(p);
  }
});

test('the URL hash holds the scenario: reload gives the same run; back and forward restore it', TEST_TIMEOUT, async () => {
  const p = await fresh();
  const { page } = p;
  await page.goto(server.url);
  const d0 = await waitDone(page, { timeout: RUN_TIMEOUT, what: 'first run' });
  const input = page.locator(`input[name="${POOL}"]`);
  const v0 = await input.inputValue();
  const v1 = v0 === '5' ? '6' : '5';

  const d1 = await setControl(page, POOL, v1, { timeout: RUN_TIMEOUT });
  const url = page.url();
  const s = hashScenario(url);
  assert.equal(
    Number(s?.app?.pool?.max_size),
    Number(v1),
    `the scenario in the hash should have app.pool.max_size=${v1}, has ${s?.app?.pool?.max_size}`,
  );

  const q = await fresh();
  await q.page.goto(url);
  const dq = await waitDone(q.page, { timeout: RUN_TIMEOUT, what: 'the reloaded URL' });
  assert.equal(await q.page.locator(`input[name="${POOL}"]`).inputValue(), v1, `the reloaded URL should show ${POOL}=${v1}`);
  assert.equal(dq, d1, 'the reloaded URL should give the same run (data-digest)');
  assert.equal(q.log.pageErrors.length, 0, `page errors:\n  ${q.log.pageErrors.join('\n  ')}`);
  await q.close();

  await watchRuns(page);
  await page.goBack({ waitUntil: 'commit' });
  await page
    .waitForFunction(([name, v]) => document.querySelector(`input[name="${name}"]`)?.value === v, [POOL, v0], { timeout: 10_000 })
    .catch(async () => {
      throw new Error(`history back should restore ${POOL}=${v0}, shows ${await input.inputValue()} (URL ${page.url()})`);
    });
  const db = await waitNewRun(page, { timeout: RUN_TIMEOUT, what: 'after history back' });
  assert.equal(db, d0, 'history back should rerun the previous scenario (same data-digest as before the change)');

  await watchRuns(page);
  await page.goForward({ waitUntil: 'commit' });
  const df = await waitNewRun(page, { timeout: RUN_TIMEOUT, what: 'after history forward' });
  assert.equal(await input.inputValue(), v1, `history forward should restore ${POOL}=${v1}`);
  assert.equal(df, d1, 'history forward should rerun the changed scenario');
  await closeClean(p);
});

test('presets: each runs and is screenshotted; the outage is "exhausted"', TEST_TIMEOUT, async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  const p = await freshDefault();
  const { page } = p;
  const select = page.locator('select[name="preset"]');
  assert.equal(await select.count(), 1, 'expected one select[name="preset"]');
  const options = await select.locator('option').evaluateAll((os) => os.map((o) => o.value));
  const missing = PRESETS.filter((v) => !options.includes(v));
  assert.deepEqual(missing, [], `select[name="preset"] lacks options ${missing} (has ${options})`);

  const verdicts = {};
  for (const preset of PRESETS) {
    if ((await select.inputValue()) !== preset) {
      await watchRuns(page);
      await select.selectOption(preset);
      await waitNewRun(page, { timeout: RUN_TIMEOUT, what: `preset ${preset}` });
    } else {
      await waitDone(page, { timeout: RUN_TIMEOUT, what: `preset ${preset}` });
    }
    await assertCharts(page, `preset ${preset}`);
    await nextFrames(page);
    await page.screenshot({ path: join(SCREENSHOTS, `${preset}.png`), fullPage: true });
    verdicts[preset] = await verdict(page);
  }
  assert.equal(verdicts.outage, 'exhausted', `the outage preset's verdict should be exhausted; verdicts: ${JSON.stringify(verdicts)}`);

  // The replay: wall-clock times, its moments marked on every time chart, captions listed.
  await watchRuns(page);
  await select.selectOption('outage-replay');
  await waitNewRun(page, { timeout: RUN_TIMEOUT, what: 'the outage replay' });
  const detection = await page.textContent('[data-testid="timeline"] li[data-moment="detection"]');
  assert.match(detection, /14:00 UTC \(\+7m10s\)/, `the detection is at 14:00 UTC: ${detection}`);
  for (const chart of ['pool', 'db', 'throughput', 'percentiles']) {
    const marks = await page.locator(`figure[data-chart="${chart}"] [data-mark="moment"]`).count();
    assert.ok(marks >= 7, `the ${chart} chart marks the replay's 7 moments (found ${marks})`);
  }
  const firstTick = await page.locator('figure[data-chart="pool"] svg text').allTextContents();
  assert.ok(firstTick.includes('13:52'), `the time axis shows wall-clock times: ${firstTick.slice(0, 12)}`);
  assert.equal(p.log.pageErrors.length, 0, `page errors:\n  ${p.log.pageErrors.join('\n  ')}`);
  assert.equal(p.log.blocked.length, 0, `off-host requests:\n  ${p.log.blocked.join('\n  ')}`);
  await p.close();
});

test('embed mode shows one chart and only the listed controls, filling a 600x400 frame', TEST_TIMEOUT, async () => {
  const p = await fresh({ viewport: { width: 600, height: 400 } });
  const { page } = p;
  const url = scenarioUrl(server.url, await scenario('default'), `?embed=pool&controls=${POOL}`);
  await page.goto(url);
  await waitDone(page, { timeout: RUN_TIMEOUT, what: 'embed run' });
  const mode = await page.$eval(ROOT_SEL, (m) => m.getAttribute('data-mode'));
  assert.equal(mode, 'embed', `main#poolsim should have data-mode="embed", got ${mode}`);
  const charts = await page.$$eval('figure', (fs) => fs.map((f) => f.getAttribute('data-chart')));
  assert.deepEqual(charts, ['pool'], `embed=pool should show exactly one figure, the pool chart; found ${JSON.stringify(charts)}`);
  assert.equal(await page.locator(`input[name="${POOL}"]`).count(), 1, `the listed control ${POOL} is missing`);
  const names = await page.$$eval('input[name], select[name], textarea[name]', (els) =>
    els.map((e) => e.getAttribute('name')),
  );
  const others = names.filter((n) => n !== POOL);
  assert.deepEqual(others, [], `embed mode should show only ${POOL}; other controls present: ${others}`);
  // The chart fills the 600x400 frame: nothing scrolls, the chart takes what the controls
  // leave, and its text is 11 px (drawn 1:1).
  const fit = await page.evaluate(() => {
    const svg = document.querySelector('figure[data-chart] svg.chart');
    const r = svg.getBoundingClientRect();
    return {
      scroll: document.scrollingElement.scrollHeight,
      height: r.height,
      scale: r.width / svg.viewBox.baseVal.width,
    };
  });
  assert.ok(fit.scroll <= 401, `the embed scrolls: ${fit.scroll} px tall in a 400 px frame`);
  assert.ok(fit.height >= 150, `the chart is only ${fit.height} px tall in a 400 px frame`);
  assert.ok(Math.abs(fit.scale - 1) < 0.01, `the chart is drawn at ${fit.scale}x`);

  await page.screenshot({ path: join(SCREENSHOTS, 'embed.png') }).catch(() => {});
  await closeClean(p);
});

test('embed shows any control by its path: the rate edits the run; a bad path is named, not dropped', TEST_TIMEOUT, async () => {
  const RATE = 'workload.arrivals.rate_per_s';
  const p = await fresh({ viewport: { width: 600, height: 800 } });
  const { page } = p;
  const base = await scenario('default');
  const controls = `${RATE},workload.transaction.query_time.kind,alerts[0].above,alerts[5].above,bogus.field`;
  await page.goto(scenarioUrl(server.url, base, `?embed=throughput&controls=${encodeURIComponent(controls)}`));
  await waitDone(page, { timeout: RUN_TIMEOUT, what: 'embed run' });
  const rate = page.locator(`input[name="${RATE}"]`);
  assert.equal(await rate.count(), 1, `the rate control ${RATE} is not in the embed`);
  assert.equal(Number(await rate.inputValue()), base.workload.arrivals.rate_per_s, 'the rate control shows the scenario\'s rate');
  assert.equal(
    await page.locator('select[name="workload.transaction.query_time.kind"]').count(),
    1,
    'query_time.kind embeds the query-time distribution with its kind selector',
  );
  assert.equal(
    Number(await page.locator('input[name="alerts[0].above"]').inputValue()),
    base.alerts[0].above,
    'alerts[0].above shows the first alert\'s threshold',
  );
  const missing = await page.$$eval('.embed-missing', (ps) => ps.map((e) => [e.dataset.path, e.textContent]));
  assert.equal(missing.length, 2, `two paths have no control here (a sixth alert; bogus): ${JSON.stringify(missing)}`);
  assert.deepEqual(missing.map(([path]) => path), ['alerts[5].above', 'bogus.field']);
  assert.match(missing[0][1], /the scenario has 2 items in alerts, so there is no alerts\[5\]/);
  assert.match(missing[1][1], /not a field the page has a control for/);

  const edited = structuredClone(base);
  edited.workload.arrivals.rate_per_s = 37;
  const expected = await page.evaluate((s) => window.poolsim.run(s), edited);
  const got = await setControl(page, RATE, 37, { timeout: RUN_TIMEOUT });
  assert.equal(got, expected.digest, 'after the embedded rate edit the run is the scenario with rate 37');
  await closeClean(p);
});

test('the embed builder keeps paths it can embed and says which it cannot', TEST_TIMEOUT, async () => {
  const p = await freshDefault();
  const { page } = p;
  await page.locator('[data-action="embed"]').click();
  const input = page.locator('input[name="embed-controls"]');
  await input.fill('workload.arrivals.rate_per_s, bogus.field, app.instances');
  await input.press('Tab');
  const snippet = await page.locator('textarea[name="embed-snippet"]').inputValue();
  const src = new URL(snippet.match(/src="([^"]+)"/)[1].replaceAll('&amp;', '&'));
  assert.equal(src.searchParams.get('controls'), 'workload.arrivals.rate_per_s,app.instances');
  const refused = await page.$$eval('.embed-refused li', (ls) => ls.map((l) => [l.dataset.path, l.textContent]));
  assert.equal(refused.length, 1, `one path refused: ${JSON.stringify(refused)}`);
  assert.equal(refused[0][0], 'bogus.field');
  assert.match(refused[0][1], /^Left out: `bogus\.field` is not a field/);
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  await closeClean(p);
});

test('importing a scenario file updates the controls and runs it', TEST_TIMEOUT, async () => {
  const page = await sharedPage();
  const dir = await mkdtemp(join(tmpdir(), 'poolsim-e2e-'));
  try {
    const file = join(dir, 'outage.json');
    await writeFile(file, await readFile(join(SCENARIOS, 'outage.json')));
    const fileInput = page.locator('input[type="file"][name="import"]');
    assert.equal(await fileInput.count(), 1, 'expected one input[type=file][name="import"]');
    await watchRuns(page);
    await fileInput.setInputFiles(file);
    await page
      .waitForFunction((name) => document.querySelector(`input[name="${name}"]`)?.value === '80', POOL, { timeout: 10_000 })
      .catch(async () => {
        const v = await page.locator(`input[name="${POOL}"]`).inputValue();
        throw new Error(`after importing outage.json ${POOL} should be 80, shows ${v}`);
      });
    await waitNewRun(page, { timeout: RUN_TIMEOUT, what: 'the imported scenario' });
    await assertCharts(page, 'after the import');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(shared.log.pageErrors.length, 0, `page errors:\n  ${shared.log.pageErrors.join('\n  ')}`);
});

test('window.poolsim.run gives the native CLI digest; bad scenarios reject naming the field', TEST_TIMEOUT, async () => {
  const page = await sharedPage();
  assert.equal(
    await page.evaluate(() => typeof window.poolsim?.run),
    'function',
    'window.poolsim.run is not a function',
  );
  for (const name of ['default', 'outage']) {
    const [s, native] = await Promise.all([scenario(name), cliSummary(name)]);
    const web = await page.evaluate((sc) => window.poolsim.run(sc), s);
    assert.equal(typeof web, 'object', `poolsim.run(${name}) should resolve to an object, got ${typeof web}`);
    assert.equal(web.digest, native.digest, `${name}.json: wasm digest ${web.digest} != native ${native.digest}`);
    assert.equal(web.events, native.events, `${name}.json: wasm events ${web.events} != native ${native.events}`);
  }

  const bad = await scenario('default');
  bad.app.pool.max_size = 0;
  const unknown = await scenario('default');
  unknown.database.bogus_field = true;
  const attempts = [
    { label: `${POOL}=0 (object)`, arg: bad, field: POOL },
    { label: 'unknown database.bogus_field (JSON string)', arg: JSON.stringify(unknown), field: 'bogus_field' },
  ];
  for (const a of attempts) {
    const r = await page.evaluate(async (arg) => {
      try {
        await window.poolsim.run(arg);
        return { resolved: true };
      } catch (e) {
        return { resolved: false, isError: e instanceof Error, message: String(e?.message ?? e) };
      }
    }, a.arg);
    assert.equal(r.resolved, false, `poolsim.run with ${a.label} should reject, it resolved`);
    assert.ok(r.isError, `poolsim.run with ${a.label} should reject with an Error, got ${JSON.stringify(r)}`);
    assert.ok(r.message.includes(a.field), `the rejection for ${a.label} should name ${a.field}: ${JSON.stringify(r.message)}`);
  }
});

test('window.poolsim.stop cancels running and queued calls; the next call runs', TEST_TIMEOUT, async () => {
  const page = await sharedPage();
  const r = await page.evaluate(async () => {
    // Two long runs (a simulated day each, several seconds): one running, one queued.
    const long = { duration: '24h' };
    const outcome = (p) => p.then(() => 'resolved', (e) => (e instanceof Error ? e.message : String(e)));
    const first = outcome(window.poolsim.run(long));
    const second = outcome(window.poolsim.run(long));
    await new Promise((ok) => setTimeout(ok, 300));
    const t0 = performance.now();
    const stopped = window.poolsim.stop();
    const outcomes = await Promise.all([first, second]);
    const waited = performance.now() - t0;
    const after = await window.poolsim.run({ duration: '20s' });
    return { stopped, outcomes, waited, afterDigest: after.digest, again: window.poolsim.stop() };
  });
  assert.equal(r.stopped, 2, `poolsim.stop() should stop both calls: ${JSON.stringify(r)}`);
  assert.deepEqual(r.outcomes, ['stopped by poolsim.stop()', 'stopped by poolsim.stop()']);
  assert.ok(r.waited < 1000, `the stopped calls should reject at once, took ${r.waited} ms`);
  assert.match(r.afterDigest, /^[0-9a-f]{16}$/, 'a call after stop() runs to its end');
  assert.equal(r.again, 0, 'nothing is left to stop');
});

test('window.poolsim.run returns the same summary object as the CLI', TEST_TIMEOUT, async () => {
  const page = await sharedPage();
  const [s, native] = await Promise.all([scenario('default'), cliSummary('default')]);
  // A JSON string this time (the contract allows an object or a string).
  const web = await page.evaluate((json) => window.poolsim.run(json), JSON.stringify(s));
  assert.deepStrictEqual(web, native, 'poolsim.run(default.json) differs from `poolsim run --format json`');
});

test('exports: scenario JSON, series CSV, a chart as SVG and as PNG', TEST_TIMEOUT, async () => {
  const page = await sharedPage();
  const read = async (download) => {
    const path = await download.path();
    return readFile(path);
  };
  const grab = async (click) => {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), click()]);
    return { name: download.suggestedFilename(), body: await read(download) };
  };

  const json = await grab(() => page.click('[data-action="export-json"]'));
  const exported = JSON.parse(json.body.toString('utf8'));
  assert.equal(exported.app.pool.max_size, Number(await page.locator(`input[name="${POOL}"]`).inputValue()),
    'the exported scenario holds the current pool size');

  const csv = await grab(() => page.click('[data-action="export-csv"]'));
  const header = csv.body.toString('utf8').split('\n')[0].split(',');
  assert.equal(header[0], 'time_s', `CSV header: ${header.slice(0, 5)}`);
  assert.ok(header.includes('hikaricp_connections_active_mean'), `CSV header lacks the dashboard names: ${header}`);

  const svg = await grab(() => page.click('figure[data-chart="pool"] [data-action="save-svg"]'));
  const text = svg.body.toString('utf8');
  assert.ok(svg.name.endsWith('.svg') && text.startsWith('<?xml') && text.includes('<svg') && text.includes('data-series="active"'),
    `the SVG export is a standalone SVG with the chart's lines (${svg.name}, ${text.slice(0, 80)})`);

  const png = await grab(() => page.click('figure[data-chart="pool"] [data-action="save-png"]'));
  assert.ok(png.name.endsWith('.png'), png.name);
  assert.deepEqual([...png.body.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'the PNG export starts with the PNG signature');
  assert.ok(png.body.length > 5_000, `the PNG is ${png.body.length} bytes: too small to hold a chart`);
});

test('on a phone: one column, nothing wider than the screen, charts drawn', TEST_TIMEOUT, async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  const p = await fresh({ viewport: { width: 390, height: 844 } });
  await p.page.goto(server.url);
  await waitDone(p.page, { timeout: RUN_TIMEOUT, what: 'first run on a phone' });
  await assertCharts(p.page, 'on a phone');
  const width = await p.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width}px wide on a 390px screen (horizontal scrolling)`);
  // The results come before the controls, and every control a finger taps is 44 px tall.
  const order = await p.page.evaluate(() => ({
    verdict: document.querySelector('[data-testid="verdict"]').getBoundingClientRect().top + scrollY,
    controls: document.querySelector('form.controls').getBoundingClientRect().top + scrollY,
  }));
  assert.ok(order.verdict < 900, `on a phone the verdict starts ${order.verdict} px down`);
  assert.ok(order.verdict < order.controls, `the verdict (${order.verdict} px) should come before the controls (${order.controls} px)`);
  const small = await p.page.$$eval('button, select, input:not([type=hidden]), summary', (els) =>
    els
      .filter((e) => e.checkVisibility() && !e.closest('.visually-hidden'))
      .map((e) => ({ what: `${e.tagName.toLowerCase()}[${e.getAttribute('name') ?? e.getAttribute('data-action') ?? e.textContent.trim().slice(0, 20)}]`, h: e.getBoundingClientRect().height, type: e.type }))
      .filter((e) => (e.type === 'checkbox' ? e.h < 24 : e.h < 44)),
  );
  assert.deepEqual(small, [], `tap targets under 44 px on a phone: ${JSON.stringify(small.slice(0, 10))}`);
  // The sizing view with its answer, its evidence table and chart fits the screen too.
  await p.page.click('[data-tab="sizing"]');
  await p.page.click('[data-action="sweep"]');
  await p.page.waitForSelector('[data-testid="sizing"][data-state="done"]', { timeout: 120_000 });
  const sizingWidth = await p.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(sizingWidth <= 390, `the sizing view is ${sizingWidth}px wide on a 390px screen`);
  await p.page.click('[data-tab="simulate"]');
  await p.page.screenshot({ path: join(SCREENSHOTS, 'phone.png'), fullPage: false });
  // A replay with its training panels and the after-action report open fits too.
  await p.page.goto(scenarioUrl(server.url, await scenario('outage-replay')));
  await waitDone(p.page, { timeout: RUN_TIMEOUT, what: 'the outage replay on a phone' });
  await p.page.click('[data-action="open-report"]');
  await p.page.waitForSelector('[data-testid="after-action"]');
  const replayWidth = await p.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(replayWidth <= 390, `the replay with its report is ${replayWidth}px wide on a 390px screen`);
  await closeClean(p);
});

/**
 * Every text box of every chart on the page, as the screen shows it: pairs that overlap by
 * more than a pixel, boxes that stick out of their chart, and the chart's scale (1 means its
 * 11 px text is 11 px on screen). The hover box is left out: it is drawn over the chart on
 * purpose.
 */
async function chartTextProblems(page) {
  return page.$$eval('figure[data-chart] svg.chart', (svgs) =>
    svgs.map((svg) => {
      const chart = svg.closest('figure').getAttribute('data-chart');
      const frame = svg.getBoundingClientRect();
      const texts = [...svg.querySelectorAll('text')].filter((t) => !t.closest('[data-cursor]') && t.textContent.trim());
      const boxes = texts.map((t) => {
        const r = t.getBoundingClientRect();
        return { text: t.textContent, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom };
      });
      const overlaps = [];
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i];
          const b = boxes[j];
          const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
          const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
          if (w > 1 && h > 1) overlaps.push(`"${a.text}" and "${b.text}" (${w.toFixed(1)}x${h.toFixed(1)} px)`);
        }
      }
      const clipped = boxes
        .filter((b) => b.x0 < frame.left - 1 || b.x1 > frame.right + 1 || b.y0 < frame.top - 1 || b.y1 > frame.bottom + 1)
        .map((b) => `"${b.text}"`);
      const viewBox = svg.viewBox.baseVal;
      return { chart, overlaps, clipped, scale: frame.width / viewBox.width, texts: boxes.length };
    }),
  );
}

test('chart text never overlaps or runs off its chart, and is 11 px on screen, at 1400, 800 and 390 px', TEST_TIMEOUT, async () => {
  const problems = [];
  for (const name of ['outage-replay', 'default']) {
    const s = await scenario(name);
    for (const width of [1400, 800, 390]) {
      const p = await fresh({ viewport: { width, height: 900 } });
      await p.page.goto(scenarioUrl(server.url, s));
      await waitDone(p.page, { timeout: RUN_TIMEOUT, what: `${name} at ${width} px` });
      if (name === 'outage-replay') {
        // Show the whole run (every moment, alert and fault on the charts).
        const all = p.page.locator('[data-action="playback-off"]');
        if (await all.count()) await all.first().click();
      }
      await nextFrames(p.page);
      const charts = await chartTextProblems(p.page);
      assert.equal(charts.length, 5, `${name} at ${width}: five charts, found ${charts.length}`);
      for (const c of charts) {
        const where = `${name} at ${width} px, ${c.chart} chart`;
        assert.ok(c.texts > 10, `${where}: only ${c.texts} texts`);
        if (Math.abs(c.scale - 1) > 0.01) problems.push(`${where}: drawn at ${c.scale.toFixed(2)}x, so its 11 px text is ${(11 * c.scale).toFixed(1)} px`);
        for (const o of c.overlaps) problems.push(`${where}: ${o} overlap`);
        for (const o of c.clipped) problems.push(`${where}: ${o} runs off the chart`);
      }
      await p.page.screenshot({ path: join(SCREENSHOTS, `charts-${name}-${width}.png`), fullPage: true });
      await closeClean(p);
    }
  }
  assert.deepEqual(problems, [], `chart text problems:\n  ${problems.join('\n  ')}`);
});

test('sizing: a sweep of pool sizes gives a recommendation that matches its evidence', TEST_TIMEOUT, async () => {
  // One instance carrying the default's 800 req/s (5.2 erlangs): small pools queue, and the
  // smallest size meeting p99 wait < 50 ms is the recommendation.
  const p = await fresh();
  const { page } = p;
  const s = await scenario('default');
  s.app.instances = 1;
  s.duration = '2m';
  await page.goto(scenarioUrl(server.url, s));
  await waitDone(page, { timeout: RUN_TIMEOUT, what: 'first run' });
  await page.click('[data-tab="sizing"]');
  for (const [name, value] of [['sizing.from', '4'], ['sizing.to', '12'], ['sizing.wait_p99', '50ms'], ['sizing.seeds', '3'], ['sizing.headroom', '0%']]) {
    await page.fill(`[name="${name}"]`, value);
    await page.press(`[name="${name}"]`, 'Tab');
  }
  await page.check('[name="sizing.every"]');
  await page.click('[data-action="sweep"]');
  await page.waitForSelector('[data-testid="sizing"][data-state="done"]', { timeout: 120_000 });
  const recommended = Number(await page.getAttribute('[data-testid="recommendation"]', 'data-recommended'));
  const rows = await page.$$eval('[data-testid="evidence"] tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
  assert.equal(rows.length, 9, `one row per size 4..12, got ${rows.length}`);
  const first = rows.find((r) => r[6] === 'meets');
  assert.ok(first, `some size should meet p99 wait < 50 ms: ${JSON.stringify(rows)}`);
  assert.equal(recommended, Number(first[0]), 'the recommendation is the smallest size that meets the objectives');
  assert.ok(recommended >= 6 && recommended <= 10, `5.2 erlangs with p99 wait < 50 ms needs a pool of about 7, got ${recommended}`);
  const below = rows.find((r) => Number(r[0]) === recommended - 1);
  assert.match(below[6], /misses/, `size ${recommended - 1} should miss: ${below}`);
  assert.match(await page.textContent('[data-testid="recommendation"]'), /Erlang C says \d+/);
  // The answer's spread over the three seeds, and what the answer leaves to spare.
  const low = Number(await page.getAttribute('[data-testid="recommendation"]', 'data-seed-low'));
  const high = Number(await page.getAttribute('[data-testid="recommendation"]', 'data-seed-high'));
  assert.ok(low <= high && high === recommended, `seeds' own sizes ${low}-${high}; recommended ${recommended}`);
  assert.match(await page.textContent('[data-testid="seed-interval"]'), /(over|Each of the) 3 seeds/);
  const row = rows.find((r) => Number(r[0]) === recommended);
  const headroom = await page.textContent('[data-testid="headroom"]');
  const usable = s.database.max_connections - s.database.reserved_connections;
  const asked = 2 * recommended;
  assert.ok(
    headroom.includes(`2 instances (with 1 surge) × ${recommended} = ${asked} of ${usable} usable connections, ${usable - asked} (`),
    headroom,
  );
  assert.match(headroom, /the pools are at most \d+% busy/);
  assert.ok(row, 'the recommended size has its row');
  assert.ok(await page.locator('figure[data-chart="sizing"] path[data-series="wait_p99"]').count() === 1, 'the evidence chart is drawn');
  await closeClean(p);
});

test('sizing by search: the default scenario\'s answer with the default objectives, the size below it failing', TEST_TIMEOUT, async () => {
  const p = await fresh();
  const { page } = p;
  const s = await scenario('default');
  s.duration = '2m';
  await page.goto(scenarioUrl(server.url, s));
  await waitDone(page, { timeout: RUN_TIMEOUT, what: 'first run' });
  await page.click('[data-tab="sizing"]');
  await page.click('[data-action="sweep"]');
  await page.waitForSelector('[data-testid="sizing"][data-state="done"]', { timeout: 120_000 });
  const recommended = Number(await page.getAttribute('[data-testid="recommendation"]', 'data-recommended'));
  const rows = await page.$$eval('[data-testid="evidence"] tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
  const verdictAt = (size) => rows.find((r) => Number(r[0]) === size)?.[6];
  assert.ok(recommended >= 2, `the pool leaves headroom at 1.5x traffic: ${recommended}`);
  assert.equal(verdictAt(recommended), 'meets', `the recommended size meets the objectives: ${JSON.stringify(rows)}`);
  assert.match(verdictAt(recommended - 1) ?? '', /misses/, `the size below it misses them: ${JSON.stringify(rows)}`);
  assert.ok(rows.length < 10, `a search judges a few sizes, not the range: ${rows.length}`);
  assert.match(await page.textContent('[data-testid="searched"]'), new RegExp(`Searched ${rows.length} sizes, bracketing then bisecting: ${recommended} meets the objectives with all 3 seeds and ${recommended - 1} misses them`));
  assert.match(await page.textContent('[data-testid="recommendation"] .answer'), /meets the objectives at 50% more traffic/);
  await closeClean(p);
});

test('config review: the outage\'s settings fail naming the pool total; a bad file names its line', TEST_TIMEOUT, async () => {
  const p = await freshDefault();
  const { page } = p;
  await page.click('[data-tab="review"]');
  await page.click('[data-action="review-example"]');
  await page.click('[data-action="review"]');
  await page.waitForSelector('[data-testid="review"][data-state="done"]', { timeout: 120_000 });
  assert.equal(await page.getAttribute('[data-testid="review-result"]', 'data-breaks'), 'true');
  const text = await page.textContent('[data-testid="review-result"]');
  assert.match(text, /960/, 'the review names the pools\' total');
  assert.match(text, /497/, 'and the usable connections');

  await page.fill('textarea[name="review.app"]', 'spring.datasource.hikari.maximum-pool-size=lots\n');
  await page.click('[data-action="review"]');
  await page.waitForSelector('[data-testid="review"][data-state="error"]', { timeout: 60_000 });
  const error = await page.textContent('[data-testid="review-error"]');
  assert.match(error, /application\.properties:1/, `the error names file and line: ${error}`);
  await closeClean(p);
});

test('replay playback: play, pause at the detection, read what responders saw, jump, show all', TEST_TIMEOUT, async () => {
  const p = await freshWith('outage-replay');
  const { page } = p;
  const pointsOf = async () => (await page.getAttribute('figure[data-chart="pool"] path[data-series="pending"]', 'd')).split(/[ML]/).length;
  const whole = await pointsOf();

  // Played from the start with "stop at moments" (on by default), playback pauses at each
  // annotation: the deploy at 3m, then the detection at 7m10s.
  assert.ok(await page.isChecked('input[name="stop-at-moments"]'));
  await page.selectOption('select[name="speed"]', '300');
  const pausedAt = async (t) => {
    await page.waitForSelector(`[data-testid="playback"][data-playhead="${t}"] [data-action="play"]`, { timeout: 10_000 });
  };
  await page.click('[data-action="play"]');
  await pausedAt(180);
  await page.click('[data-action="play"]');
  await pausedAt(430);
  await page.waitForSelector('[data-testid="responders"]');
  const heading = await page.textContent('[data-testid="responders"] h2');
  assert.match(heading, /14:00/, `responders see the moment of detection: ${heading}`);
  const logs = await page.textContent('[data-testid="logs"]');
  assert.match(logs, /FATAL: sorry, too many clients already/, `the database refuses connections: ${logs}`);
  assert.match(logs, /Connection is not available, request timed out after 30000ms/, `the pools time out: ${logs}`);
  const pending = Number((await page.textContent('[data-metric="hikaricp_connections_pending"]')).replace(/,/g, ''));
  assert.ok(pending > 100, `requests pend for connections at detection: ${pending}`);
  const cpu = Number((await page.textContent('[data-metric="db CPU"]')).replace('%', ''));
  assert.ok(cpu < 50, `the database is not busy: CPU ${cpu}%`);
  // Each label sits directly above its own value, whatever the width (they were separate
  // cells of a wrapping grid, so "hikaricp_connections_active" sat over the idle count).
  for (const width of [1400, 1000, 800, 390]) {
    await page.setViewportSize({ width, height: 900 });
    const pairs = await page.$$eval('[data-testid="responders"] dd[data-metric]', (dds) => dds.map((dd) => {
      const dt = dd.previousElementSibling;
      const a = dt.getBoundingClientRect();
      const b = dd.getBoundingClientRect();
      return { label: dt.textContent, metric: dd.dataset.metric, dt: [a.left, a.right, a.bottom], dd: [b.left, b.top] };
    }));
    assert.ok(pairs.length >= 6, `the responders' figures: ${pairs.length}`);
    for (const p of pairs) {
      assert.equal(p.label, p.metric, `at ${width}px the label is its value's`);
      assert.ok(Math.abs(p.dt[0] - p.dd[0]) < 1 && p.dd[1] >= p.dt[2] - 1 && p.dd[1] - p.dt[2] < 12,
        `at ${width}px "${p.label}" sits directly above its value: ${JSON.stringify(p)}`);
    }
    // No other value starts between a label and its own value.
    const tops = pairs.map((p) => p.dd[1]);
    for (const p of pairs) {
      const between = pairs.filter((q) => q !== p && Math.abs(q.dd[0] - p.dd[0]) < 1 && q.dd[1] > p.dt[2] && q.dd[1] < p.dd[1]);
      assert.equal(between.length, 0, `at ${width}px nothing sits between "${p.label}" and its value (${tops})`);
    }
  }
  await page.setViewportSize({ width: 1400, height: 900 });
  const cut = await pointsOf();
  assert.ok(cut < whole / 2, `the charts stop at the playhead (${cut} of ${whole} points)`);
  // Counted on the pool chart's first panel (the panel below repeats the marks).
  const firstPanel = page.locator('figure[data-chart="pool"] svg > g').first();
  assert.equal(await firstPanel.locator('[data-mark="playhead"]').count(), 1);
  assert.equal(await firstPanel.locator('[data-mark="moment"]').count(), 2,
    'only the moments up to the playhead are shown (deploy, detection)');

  // Without stops, playback runs on until paused.
  await page.uncheck('input[name="stop-at-moments"]');
  await page.selectOption('select[name="speed"]', '60');
  const before = Number(await page.getAttribute('[data-testid="playback"]', 'data-playhead'));
  await page.click('[data-action="play"]');
  await page.waitForTimeout(600);
  await page.click('[data-action="pause"]');
  const after = Number(await page.getAttribute('[data-testid="playback"]', 'data-playhead'));
  assert.ok(after > before, `playing moves the playhead (${before} -> ${after})`);
  // Jump straight to the fix.
  await page.click('[data-action="goto-moment"][data-at="1320"]');
  assert.equal(await page.getAttribute('[data-testid="playback"]', 'data-playhead'), '1320');

  await page.click('[data-action="playback-off"]');
  assert.equal(await page.locator('[data-mark="playhead"]').count(), 0);
  assert.equal(await pointsOf(), whole, 'the whole run is shown again');
  await closeClean(p);
});

test('trainee view: while the replay plays, the answers stay hidden until the trainer reveals them', TEST_TIMEOUT, async () => {
  const p = await freshWith('outage-replay');
  const { page } = p;
  const spoilers = ['Root cause', 'OVERSUBSCRIBED', 'over-ask', 'pools cut to 40', '960 connections'];
  // Text on screen: visible text nodes, menus' closed options left out.
  const shown = async () => {
    const text = await page.evaluate(() => {
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      const parts = [];
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const el = n.parentElement;
        if (!el || el.closest('select, title') || !el.checkVisibility()) continue;
        parts.push(n.textContent);
      }
      return parts.join(' ');
    });
    return spoilers.filter((s) => text.includes(s));
  };
  assert.ok((await shown()).length >= 3, 'the whole run shows the verdict, the story and the captions');
  // Jump to the detection: playback, so the trainee view.
  await page.click('[data-action="goto-moment"][data-at="430"]');
  await page.waitForSelector('[data-testid="trainee"]');
  assert.deepEqual(await shown(), [], 'nothing that gives the answer away is on screen');
  assert.equal(await page.locator('[data-testid="verdict"]').count(), 0, 'no verdict');
  const listed = await page.$$eval('[data-testid="timeline"] li', (ls) => ls.map((l) => l.dataset.moment));
  assert.deepEqual(listed, ['action', 'detection'], 'the timeline lists the moments reached so far');
  assert.equal(await page.locator('[data-testid="timeline"] li p').count(), 0, 'without their captions');
  assert.equal((await page.textContent('[data-action="goto-moment"][data-at="1320"]')).trim(), '22m …', 'the fix ahead is only a time');
  assert.equal(await page.locator('[data-action="open-report"]').count(), 0, 'no after-action report while training');
  assert.equal(await page.locator('[data-testid="exercise"]').count(), 0, 'no exercise (it names the recorded fix)');
  assert.equal(await page.locator('[data-testid="alert-tuning"]').count(), 0, 'no alert tuning (it gives firings still ahead)');
  // The signal that matters, at a glance: per instance, the connections held at 14:00.
  const held = await page.$$eval('[data-testid="instance-map"] .instance-row', (rows) =>
    rows.map((r) => [Number(r.dataset.instance), Number(r.dataset.held), r.querySelector('.held').textContent]));
  assert.equal(held.length, 12, 'a strip per instance');
  for (const [i, n, text] of held) {
    if (i > 8) assert.equal(text, '0 of 80: starved', `instance ${i} holds no connection at 14:00`);
    else assert.ok(n >= 50 && text === `${n} of 80`, `instance ${i} holds most of its pool at 14:00: ${text}`);
  }
  assert.match(await page.textContent('[data-testid="instance-map"] .instance-map-title'), /counts at 14:00:00/);

  await page.click('[data-action="reveal-answers"]');
  await page.waitForSelector('[data-testid="verdict"]');
  assert.ok((await shown()).includes('Root cause'), 'revealed: the captions are back');
  await page.click('[data-action="hide-answers"]');
  await page.waitForSelector('[data-testid="trainee"]');
  assert.deepEqual(await shown(), []);
  await page.click('[data-action="reveal-answers"]');
  await page.click('[data-action="playback-off"]');
  await page.waitForSelector('[data-testid="verdict"]');
  assert.equal(await page.locator('[data-testid="trainee"]').count(), 0, 'the whole run is not a training view');
  // Playing again after the whole run hides the answers again, even once revealed.
  await page.click('[data-action="goto-moment"][data-at="430"]');
  await page.waitForSelector('[data-testid="trainee"]');
  assert.deepEqual(await shown(), []);
  await closeClean(p);
});

test('alert tuning: the replay\'s rules on the incident and on a healthy day, then a rule that false-alarms', TEST_TIMEOUT, async () => {
  const p = await freshWith('outage-replay');
  const { page } = p;
  const check = async () => {
    await page.click('[data-action="check-alerts"]');
    await page.waitForSelector('[data-testid="alert-tuning"][data-state="done"]', { timeout: 120_000 });
  };
  const row = (name) => page.locator(`[data-testid="alert-tuning"] tr[data-alert="${name}"]`);
  await check();
  assert.equal(await row('connection failures').getAttribute('data-incident-fired'), 'true');
  assert.equal(await row('connection failures').getAttribute('data-baseline-fired'), 'false');
  assert.match(await row('connection failures').textContent(), /fired at 14:00:00 UTC \(\+7m10s\)/);
  assert.equal(await row('database CPU high').getAttribute('data-incident-fired'), 'false', 'CPU stays quiet: a misleading signal');

  // Tuned too tight: CPU above 10% for a minute pages on a healthy day.
  await setControl(page, 'alerts[1].above', '0.1', { timeout: RUN_TIMEOUT });
  await check();
  assert.equal(await row('database CPU high').getAttribute('data-baseline-fired'), 'true');
  assert.match(await row('database CPU high').textContent(), /FALSE ALARM/);
  await closeClean(p);
});

test('exercise: a wrong fix does not end the outage, cutting the pools earlier recovers sooner, shown on the charts', TEST_TIMEOUT, async () => {
  const p = await freshWith('outage-replay');
  const { page } = p;
  const ex = '[data-testid="exercise"]';
  const cell = (row, who) => page.textContent(`${ex} tr[data-row="${row}"] td[data-${who}]`);
  const run = async () => {
    await page.click(`${ex} [data-action="run-exercise"]`);
    await page.waitForSelector(`${ex}[data-state="done"], ${ex}[data-state="error"]`, { timeout: 120_000 });
    assert.equal(await page.getAttribute(ex, 'data-state'), 'done', await page.textContent(ex));
  };
  // The moment offered is the detection; a bad value is named, nothing runs.
  assert.equal(await page.inputValue(`${ex} [name="exercise-at"]`), '7m10s');
  await page.fill(`${ex} [name="exercise-at"]`, '12m');
  await page.fill(`${ex} [name="exercise-value"]`, '0');
  await page.press(`${ex} [name="exercise-value"]`, 'Tab');
  await page.click(`${ex} [data-action="run-exercise"]`);
  assert.match(await page.textContent(`${ex} [role="alert"]`), /Pool size: must be a whole number/);

  // A rolling restart: the pools race for the same connections again.
  await page.selectOption(`${ex} [name="exercise-change"]`, 'rolling_restart');
  await run();
  assert.equal(await page.getAttribute('[data-testid="exercise-verdict"]', 'data-outcome'), 'not-recovered');
  assert.equal(await cell('recovered', 'exercise'), 'not by the end of the run');
  assert.match(await cell('recovered', 'record'), /^14:1\d:\d\d UTC \(\+2[2-4]m/, 'the record recovers after its fix at 22m');

  // Pools of 40 rolled out at 12m, as the postmortem did at 22m: ten minutes sooner.
  await page.selectOption(`${ex} [name="exercise-change"]`, 'pool_size');
  assert.ok(await page.isChecked(`${ex} [name="exercise-roll-out"]`));
  // Typed and submitted with Enter: the run uses what was just typed.
  await page.fill(`${ex} [name="exercise-value"]`, '40');
  await page.press(`${ex} [name="exercise-value"]`, 'Enter');
  await page.waitForSelector(`${ex}[data-state="done"] [data-testid="exercise-verdict"]:has-text("pools of 40")`, { timeout: 120_000 });
  assert.equal(await page.getAttribute('[data-testid="exercise-verdict"]', 'data-outcome'), 'better');
  const verdict = await page.textContent('[data-testid="exercise-verdict"]');
  assert.match(verdict, /pools of 40, rolled out 4 at a time at 12m: recovered (9m|10m)\S* sooner/, verdict);
  assert.equal(await cell('onset', 'exercise'), await cell('onset', 'record'), 'the same incident until the moment');

  // On the charts: the exercise runs as the scenario, the record pinned beside it.
  await watchRuns(page);
  await page.click(`${ex} [data-action="open-exercise"]`);
  await waitNewRun(page, { timeout: RUN_TIMEOUT, what: 'the exercise on the charts' });
  assert.ok((await page.locator('figure[data-chart="throughput"] path[data-baseline]').count()) > 0, 'the record is drawn as the baseline');
  assert.match(await page.textContent('[data-testid="timeline"]'), /you: pools of 40/);
  await closeClean(p);
});

test('after-action report: timeline with the alerts, what failed and what fixed it, key charts; saved as one HTML file and printed alone', TEST_TIMEOUT, async () => {
  const p = await freshWith('outage-replay');
  const { page } = p;
  await page.click('[data-action="open-report"]');
  const aar = '[data-testid="after-action"]';
  await page.waitForSelector(aar);
  assert.match(await page.textContent(`${aar} .meta`), /^2023-08-05 13:52 to 14:27 UTC/);
  const kinds = await page.$$eval(`${aar} [data-testid="aar-timeline"] tr`, (rows) => rows.map((r) => r.dataset.kind));
  assert.deepEqual(kinds, ['action', 'detection', 'alert', 'note', 'note', 'escalation', 'fix', 'resolution']);
  const failed = await page.textContent(`${aar} [data-testid="aar-failed"]`);
  assert.match(failed, /failed \(1[45]\.\d%\)/, failed);
  assert.match(failed, /too many clients: [^(]+ \([^)]+\): got no connection in time because the database refused new ones/, failed);
  assert.match(failed, /90% of failures were on 4 of 12 instances \(instance 9, 10, 11, 12\)/, failed);
  const fixed = await page.textContent(`${aar} [data-testid="aar-fixed"]`);
  assert.match(fixed, /pools cut to 40 at 14:14:50/, fixed);
  assert.match(fixed, /reconfigure at 22m: max_size 40, rolled out 4 at a time/, fixed);
  assert.equal(await page.locator(`${aar} figure svg.chart`).count(), 3, 'throughput, pool and database charts');
  const starved = await page.$$eval(`${aar} [data-testid="instance-map"] .instance-row`, (rows) =>
    rows.filter((r) => r.querySelector('.held').textContent === '0 of 40: starved').length);
  assert.equal(starved, 0, 'at the end of the replay no instance is starved');

  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.click('[data-action="save-report"]')]);
  assert.match(download.suggestedFilename(), /^outage-replay-.*-after-action\.html$/);
  const html = (await readFile(await download.path())).toString('utf8');
  assert.ok(html.startsWith('<!doctype html>') && html.includes('<style>') && !/<script|<link /.test(html),
    'one standalone file: styles inline, nothing to load');
  assert.ok(html.includes('pools cut to 40') && (html.match(/<svg/g) ?? []).length >= 3, 'the saved file holds the text and the charts');
  assert.ok(html.includes('.aar-timeline'), 'the page\'s styles are inlined');

  // Printing shows the report alone.
  await page.emulateMedia({ media: 'print' });
  const shown = await page.evaluate(() => ({
    side: getComputedStyle(document.querySelector('.side')).display,
    report: getComputedStyle(document.querySelector('[data-testid="after-action"]')).display,
    buttons: getComputedStyle(document.querySelector('.after-action-actions')).display,
  }));
  assert.deepEqual(shown, { side: 'none', report: 'block', buttons: 'none' });
  await page.emulateMedia({ media: 'screen' });
  await closeClean(p);
});

test('leak replay: at the first leak warning, responders see leak detection in the logs while nothing fails yet', TEST_TIMEOUT, async () => {
  const p = await freshWith('leak');
  const { page } = p;
  await page.click('[data-action="goto-moment"][data-at="130"]');
  await page.waitForSelector('[data-testid="responders"]');
  assert.match(await page.textContent('[data-testid="responders"] h2'), /10:07:10/);
  const logs = await page.textContent('[data-testid="logs"]');
  assert.match(logs, /ProxyLeakTask - Connection leak detection triggered/, logs);
  assert.doesNotMatch(logs, /Connection is not available/, 'no pool timeouts yet');
  assert.equal(await page.textContent('[data-metric="HTTP failures"]'), '0.0%');
  await closeClean(p);
});
