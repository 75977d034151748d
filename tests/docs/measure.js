// Opens the docs page in headless Chromium as a reader would, several times, and reports what
// appears when; checks what the page shows; saves a screenshot. Run by tests/docs/check.
//
//   node measure.js URL OUT_DIR [RUNS] [CPU_THROTTLE]
//
// Each run is a new browser profile and three visits; the medians over the runs are printed.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const [url, outDir, runsArg, throttleArg] = process.argv.slice(2);
const runs = Number(runsArg || 3);
const throttle = Number(throttleArg || 1);
const origin = new URL(url).origin;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

// Records, in page time, when the first text is painted and when the first operation is in the DOM.
const probe = () => {
  window.__docs = {};
  new MutationObserver(() => {
    if (!window.__docs.operations && document.querySelector(".opblock")) {
      window.__docs.operations = performance.now();
    }
  }).observe(document, { childList: true, subtree: true });
};

async function visit(page) {
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => window.__docs && window.__docs.operations, null, { timeout: 120000 });
  return page.evaluate(() => {
    const paint = performance.getEntriesByName("first-contentful-paint")[0];
    const transferred = performance
      .getEntriesByType("resource")
      .concat(performance.getEntriesByType("navigation"))
      .reduce((sum, entry) => sum + (entry.transferSize || 0), 0);
    return { text: paint ? paint.startTime : NaN, operations: window.__docs.operations, transferred };
  });
}

(async () => {
  const document = await (await fetch(new URL("/api/v1/openapi.json", origin))).json();
  const tokenOnly = [];
  const summaries = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      summaries.push(operation.summary || "");
      const security = operation.security || document.security || [];
      if (security.length > 0 && !security.some((requirement) => Object.keys(requirement).length === 0)) {
        tokenOnly.push(`${method.toUpperCase()} ${path}`);
      }
    }
  }
  const first = [];
  const again = [];
  const offsite = new Set();
  let shown;
  for (let run = 0; run < runs; run++) {
    // A new profile each run, kept on disk as a reader's is: nothing cached at first.
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "perfeval-docs-profile-"));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
      viewport: { width: 1280, height: 1600 },
    });
    await context.addInitScript(probe);
    context.on("request", (request) => {
      if (!request.url().startsWith(origin) && !request.url().startsWith("data:")) offsite.add(request.url());
    });
    // Three visits, each in a new tab: the first with nothing cached; by the third the browser
    // has kept what the page let it keep (files, and V8's compiled bundle).
    let page;
    for (let visitNumber = 1; visitNumber <= 3; visitNumber++) {
      if (page) await page.close();
      page = await context.newPage();
      if (throttle > 1) {
        const cdp = await context.newCDPSession(page);
        await cdp.send("Emulation.setCPUThrottlingRate", { rate: throttle });
      }
      const seen = await visit(page);
      if (visitNumber === 1) first.push(seen);
      if (visitNumber === 3) again.push(seen);
      await page.waitForTimeout(1000);
    }
    if (run === runs - 1) {
      shown = await page.evaluate(() => ({
        operations: document.querySelectorAll(".opblock").length,
        padlocks: [...document.querySelectorAll(".opblock")]
          .filter((block) => block.querySelector(".opblock-summary .authorization__btn"))
          .map((block) => block.querySelector(".opblock-summary-method").textContent.trim() + " " +
            block.querySelector(".opblock-summary-path").getAttribute("data-path")),
        summaries: [...document.querySelectorAll(".opblock-summary-description")].map((node) => node.textContent),
      }));
      await page.screenshot({ path: `${outDir}/docs.png` });
    }
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }

  const ms = (values, key) => `${Math.round(median(values.map((v) => v[key])))} ms`;
  const kb = (values) => `${Math.round(median(values.map((v) => v.transferred)) / 1024)} kB`;
  console.log(`${url}, ${runs} runs, CPU throttle ${throttle}x (medians):`);
  console.log(`  first visit: first text ${ms(first, "text")}, operations shown ${ms(first, "operations")}, ${kb(first)} transferred`);
  console.log(`  third visit: first text ${ms(again, "text")}, operations shown ${ms(again, "operations")}, ${kb(again)} transferred`);
  console.log(`  ${shown.operations} operations shown, ${shown.padlocks.length} with a padlock; screenshot ${outDir}/docs.png`);

  const problems = [];
  if (shown.operations !== summaries.length) problems.push(`${shown.operations} operations shown, the document has ${summaries.length}`);
  const withTicks = shown.summaries.filter((text) => text.includes("`"));
  if (withTicks.length) problems.push(`summaries with Markdown backticks: ${withTicks.join(" | ")}`);
  const padlocks = [...shown.padlocks].sort().join(", ");
  const expected = [...tokenOnly].sort().join(", ");
  if (padlocks !== expected) problems.push(`padlocks on [${padlocks}], expected exactly on the token-only operations [${expected}]`);
  if (offsite.size) problems.push(`requests off the service: ${[...offsite].join(", ")}`);
  if (problems.length) {
    console.error("FAILED:\n  " + problems.join("\n  "));
    process.exit(1);
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
