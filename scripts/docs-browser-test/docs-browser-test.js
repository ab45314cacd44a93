// Drives the server's /docs page in headless Chromium as a person would: scrolled from top to
// bottom, it lists every operation of the document; Authorize takes a token; "List projects"
// runs from the page and answers 200. Every request the browser makes is recorded, and each
// must have gone to 127.0.0.1.
//
// Run by scripts/docs-browser-test.sh, which starts the server and passes, in the environment:
// DOCS_BASE_URL (http://127.0.0.1:PORT), DOCS_TOKEN (an access token), and optionally
// DOCS_SCREENSHOT (a PNG file to write the page to once the call has answered).
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const CHROMIUM = "/usr/bin/chromium";
// No background connections of the browser's own (updates, sync, safe browsing, QUIC probes):
// on a closed network they are refused, and they are not the page's requests.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const STEP_TIMEOUT_MS = 30_000;

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

async function main() {
  const base = required("DOCS_BASE_URL");
  const token = required("DOCS_TOKEN");
  const screenshot = process.env.DOCS_SCREENSHOT;

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "orchestore-docs-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const requests = [];
  const refusals = [];
  context.on("request", (request) => requests.push(request.url()));
  const page = context.pages()[0] ?? (await context.newPage());
  try {
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    // What the Content-Security-Policy stops is reported on the console, not as a request.
    page.on("console", (message) => {
      if (message.type() === "error" && message.text().includes("Content Security Policy")) {
        refusals.push(message.text());
      }
    });
    page.on("pageerror", (error) => refusals.push(`page error: ${error.message}`));

    await page.goto(`${base}/docs`);
    const described = await describedOperations(base);
    const { listed, projectsAt } = await scrollThroughOperations(page);
    const missing = [...described].filter((operation) => !listed.has(operation));
    const unknown = [...listed].filter((operation) => !described.has(operation));
    if (missing.length > 0 || unknown.length > 0) {
      throw new Error(
        `the page lists ${listed.size} of the document's ${described.size} operations; ` +
          `missing: ${missing.slice(0, 10).join(", ")}; not in the document: ${unknown.join(", ")}`,
      );
    }
    console.log(`the page lists all ${listed.size} operations`);

    // The dialog has a form for each of the document's two bearer schemes, under a heading
    // naming it; the access token goes to bearer_jwt.
    await page.locator(".auth-wrapper button.authorize").click();
    const scheme = page.locator(".auth-container").filter({
      has: page.locator("h4 code", { hasText: /^bearer_jwt$/ }),
    });
    await scheme.locator("input").fill(token);
    await scheme.locator("button.authorize").click();
    await scheme.locator("h6", { hasText: "Authorized" }).waitFor();
    await page.locator("button.btn-done").first().click();
    console.log("authorized with the bearer_jwt scheme");

    // Back to where the projects' operations were drawn (Authorize is at the top of the page):
    // the list draws only what is in view.
    await page.evaluate((y) => window.scrollTo(0, y), projectsAt);
    const projects = page.locator(".opblock-summary-path[data-path='/api/v1/projects']");
    await projects.first().waitFor();
    const projectOperations = await projects.count();
    if (projectOperations !== 2) {
      throw new Error(`expected GET and POST /api/v1/projects, the page shows ${projectOperations}`);
    }
    console.log(`${projectOperations} operations on /api/v1/projects`);

    const operation = page.locator(".opblock").filter({
      has: page.locator(".opblock-summary-description", { hasText: "List projects" }),
    });
    await operation.locator(".opblock-summary").click();
    await operation.locator("button.try-out__btn").click();
    const answered = page.waitForResponse(
      (response) =>
        new URL(response.url()).pathname === "/api/v1/projects" &&
        response.request().method() === "GET",
    );
    await operation.locator("button.execute").click();
    const response = await answered;
    const sent = response.request().headers()["authorization"];
    if (sent !== `Bearer ${token}`) {
      throw new Error(`the call was sent with authorization ${JSON.stringify(sent)}`);
    }
    const status = operation.locator(".live-responses-table .response .response-col_status");
    await status.first().waitFor();
    const shown = (await status.first().innerText()).trim();
    if (response.status() !== 200 || !shown.startsWith("200")) {
      throw new Error(`List projects answered ${response.status()}, the page shows ${shown}`);
    }
    console.log("List projects ran from the page: 200");

  } finally {
    // The page as it was at the end, passed or failed.
    if (screenshot) {
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`screenshot: ${screenshot}`);
    }
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }

  // `data:` URIs are the stylesheet's own icons, read from the stylesheet: no request leaves.
  const elsewhere = requests.filter(
    (url) => !url.startsWith("data:") && new URL(url).hostname !== "127.0.0.1",
  );
  console.log(`${requests.length} requests, ${elsewhere.length} not to 127.0.0.1:`);
  for (const url of requests) {
    console.log(`  ${url.length > 100 ? `${url.slice(0, 100)}…` : url}`);
  }
  if (elsewhere.length > 0 || refusals.length > 0) {
    for (const url of elsewhere) {
      console.error(`request elsewhere: ${url}`);
    }
    for (const refusal of refusals) {
      console.error(`refused: ${refusal}`);
    }
    throw new Error("the page reached outside the server, or its policy refused something");
  }
}

// Every operation of the server's document, as "METHOD /path".
async function describedOperations(base) {
  const response = await fetch(`${base}/api/openapi.json`);
  if (!response.ok) {
    throw new Error(`/api/openapi.json answered ${response.status}`);
  }
  const document = await response.json();
  const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  const operations = new Set();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of methods) {
      if (item[method]) {
        operations.add(`${method.toUpperCase()} ${path}`);
      }
    }
  }
  return operations;
}

// Scrolls the page from top to bottom as a reader would, collecting every operation drawn on
// the way. Swagger UI draws a long list of operations (150 entries or more) only where the
// window is, so an operation far down exists in the page only once scrolled to. Returns the
// operations seen and a scroll position at which both operations on /api/v1/projects were
// drawn (the list draws the same entries when scrolled back there).
async function scrollThroughOperations(page) {
  await page.locator(".opblock-summary-path").first().waitFor();
  const listed = new Set();
  let projectsAt = null;
  let previous = -1;
  let still = 0;
  for (let step = 0; step < 2_000; step += 1) {
    const seen = await page.evaluate(() => {
      // `[data-path]`: a deprecated operation's path has a class of its own.
      const operations = Array.from(document.querySelectorAll(".opblock-summary")).map(
        (summary) =>
          `${summary.querySelector(".opblock-summary-method")?.textContent} ` +
          `${summary.querySelector("[data-path]")?.getAttribute("data-path")}`,
      );
      return { operations, y: window.scrollY };
    });
    for (const operation of seen.operations) {
      listed.add(operation);
    }
    const projects = seen.operations.filter((operation) => operation.endsWith(" /api/v1/projects"));
    if (projectsAt === null && projects.length === 2) {
      projectsAt = seen.y;
    }
    // At the end the position stops moving; three steps in place, as the list may still grow
    // once it has measured what it drew last.
    still = seen.y === previous ? still + 1 : 0;
    if (still === 3) {
      if (projectsAt === null) {
        throw new Error("scrolled to the end of the page without seeing both operations on /api/v1/projects at once");
      }
      return { listed, projectsAt };
    }
    previous = seen.y;
    // Two frames after the scroll: the list draws what came into view.
    await page.evaluate(
      () =>
        new Promise((resolve) => {
          window.scrollBy(0, 400);
          requestAnimationFrame(() => requestAnimationFrame(resolve));
        }),
    );
  }
  throw new Error("the page did not reach its end in 2,000 steps of scrolling");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
