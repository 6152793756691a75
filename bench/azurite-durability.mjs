// How many of the last writes Azurite keeps when it is stopped in a given way (issue 11: "a crash must not lose
// local data"). For each service and stop method: start the repository's pinned Azurite on a free port with a fresh
// --location, write N items back to back (each one acknowledged), stop it right after the last answer, start it
// again on the same folder and count what is there. Figures are in docs/operations.md, "Local data durability".
//
//   node bench/azurite-durability.mjs [--n 200] [--runs 1] [--services table,queue,blob] [--methods sigkill,...]
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = Object.fromEntries(process.argv.slice(2).join(" ").split("--").filter(Boolean).map(a => a.trim().split(/\s+/)));
const n = Number(args.n ?? 200);
const runs = Number(args.runs ?? 1);
const services = (args.services ?? "table,queue,blob").split(",");
const methods = (args.methods ?? "sigkill,sigterm-wait,sigint-wait,sigint-restart-at-once,idle-6s-sigkill").split(",");

const account = "devstoreaccount1";
const key = Buffer.from("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==", "base64");

// One account SAS for every request (version 2019-02-02: no encryption-scope field in the string to sign).
const sas = (() => {
  const p = { sv: "2019-02-02", ss: "bqt", srt: "sco", sp: "rwdlacup", se: "2099-01-01T00:00:00Z", spr: "http,https" };
  const toSign = [account, p.sp, p.ss, p.srt, "", p.se, "", p.spr, p.sv, ""].join("\n");
  const sig = createHmac("sha256", key).update(toSign, "utf8").digest("base64");
  return new URLSearchParams({ ...p, sig }).toString();
})();

const freePort = () => new Promise(resolve => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});

const sleep = ms => new Promise(r => setTimeout(r, ms));

function start(service, port, location) {
  const child = spawn(join(root, "node_modules/.bin/azurite-" + service),
    [`--${service}Host`, "127.0.0.1", `--${service}Port`, String(port), "--location", location,
      "--silent", "--disableTelemetry", "--skipApiVersionCheck"], { stdio: ["ignore", "ignore", "inherit"] });
  child.exited = new Promise(resolve => child.once("exit", (code, signal) => resolve({ code, signal })));
  return child;
}

async function waitForPort(port, child) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      if (child.exitCode !== null) throw new Error(`azurite exited with ${child.exitCode} while starting`);
      await sleep(50);
    }
  }
  throw new Error(`azurite did not listen on ${port}`);
}

async function call(method, url, { body, headers = {}, ok = [200, 201, 204] } = {}) {
  const res = await fetch(url + (url.includes("?") ? "&" : "?") + sas, {
    method, body, headers: { "x-ms-version": "2019-02-02", ...headers },
  });
  const text = await res.text();
  if (!ok.includes(res.status)) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 200)}`);
  return text;
}

// Each service: create a container, write one item, count the items.
const kinds = {
  table: base => ({
    create: () => call("POST", `${base}/Tables`, { body: JSON.stringify({ TableName: "durability" }), headers: { "content-type": "application/json", accept: "application/json;odata=nometadata" } }),
    write: i => call("POST", `${base}/durability`, {
      body: JSON.stringify({ PartitionKey: "p", RowKey: String(i).padStart(6, "0"), Value: i }),
      headers: { "content-type": "application/json", accept: "application/json;odata=nometadata", Prefer: "return-no-content" },
    }),
    count: async () => {
      let total = 0, next = "";
      do {
        const res = await fetch(`${base}/durability()?${sas}${next}`, { headers: { "x-ms-version": "2019-02-02", accept: "application/json;odata=nometadata" } });
        if (res.status === 404) return 0;
        total += (await res.json()).value.length;
        const pk = res.headers.get("x-ms-continuation-nextpartitionkey"), rk = res.headers.get("x-ms-continuation-nextrowkey");
        next = pk ? `&NextPartitionKey=${encodeURIComponent(pk)}&NextRowKey=${encodeURIComponent(rk)}` : "";
      } while (next);
      return total;
    },
  }),
  queue: base => ({
    create: () => call("PUT", `${base}/durability`),
    write: i => call("POST", `${base}/durability/messages`, { body: `<QueueMessage><MessageText>m${i}</MessageText></QueueMessage>` }),
    count: async () => {
      const res = await fetch(`${base}/durability?comp=metadata&${sas}`, { headers: { "x-ms-version": "2019-02-02" } });
      return res.status === 404 ? 0 : Number(res.headers.get("x-ms-approximate-messages-count"));
    },
  }),
  blob: base => ({
    create: () => call("PUT", `${base}/durability?restype=container`),
    write: i => call("PUT", `${base}/durability/b${String(i).padStart(6, "0")}`, { body: `blob ${i}`, headers: { "x-ms-blob-type": "BlockBlob" } }),
    count: async () => {
      let total = 0, marker = "";
      do {
        const res = await fetch(`${base}/durability?restype=container&comp=list&${sas}${marker}`, { headers: { "x-ms-version": "2019-02-02" } });
        if (res.status === 404) return 0;
        const xml = await res.text();
        total += (xml.match(/<Blob>/g) ?? []).length;
        const m = xml.match(/<NextMarker>([^<]+)<\/NextMarker>/);
        marker = m ? `&marker=${encodeURIComponent(m[1])}` : "";
      } while (marker);
      return total;
    },
  }),
};

// Each stop method returns when the caller would go on (restart).
const stops = {
  "sigkill": async child => { child.kill("SIGKILL"); await child.exited; },
  "sigterm-wait": async child => { child.kill("SIGTERM"); await child.exited; },
  "sigint-wait": async child => { child.kill("SIGINT"); await child.exited; },
  // A caller that signals and moves on: the next Azurite starts while the old one may still be saving.
  "sigint-restart-at-once": async child => { child.kill("SIGINT"); await sleep(0); },
  // Control: LokiJS autosaves every 5 s; after an idle 6 s even SIGKILL should lose nothing.
  "idle-6s-sigkill": async child => { await sleep(6_000); child.kill("SIGKILL"); await child.exited; },
};

async function measure(service, method) {
  const location = mkdtempSync(join(tmpdir(), "azurite-durability-"));
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/${account}`;
    const kind = kinds[service](base);
    let child = start(service, port, location);
    await waitForPort(port, child);
    await kind.create();
    const t0 = Date.now();
    for (let i = 0; i < n; i++) await kind.write(i);
    const writeMs = Date.now() - t0;
    const old = child;
    const stopStarted = Date.now();
    await stops[method](child);
    const stopMs = Date.now() - stopStarted;
    // On an at-once restart the old process may still hold the port: retry until the new one listens.
    let note = "";
    for (let attempt = 0; ; attempt++) {
      child = start(service, port, location);
      try {
        await waitForPort(port, child);
        break;
      } catch (e) {
        if (attempt >= 50) throw e;
        note = `restart retried ${attempt + 1}×`;
        await sleep(100);
      }
    }
    const kept = await kind.count();
    child.kill("SIGINT");
    await child.exited;
    if (old.exitCode === null && old.signalCode === null) { old.kill("SIGKILL"); await old.exited; }
    return { service, method, n, kept, writeMs, stopMs, exit: await old.exited, note };
  } finally {
    rmSync(location, { recursive: true, force: true });
  }
}

for (const service of services) {
  for (const method of methods) {
    for (let r = 0; r < runs; r++) {
      const m = await measure(service, method);
      console.log(`${m.service.padEnd(5)} ${m.method.padEnd(24)} kept ${String(m.kept).padStart(4)}/${m.n}  ` +
        `(writes ${m.writeMs} ms, stop ${m.stopMs} ms, old exit ${m.exit.signal ?? m.exit.code}) ${m.note}`);
    }
  }
}
