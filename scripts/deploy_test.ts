import assert from "node:assert/strict";
import { CliError } from "./cli.ts";
import { deploy, type DeployIo, resolveTarget, shortCause } from "./deploy.ts";

function io(over: Partial<DeployIo> & { envVars?: Record<string, string> } = {}) {
  const ran: string[][] = [], printed: string[] = [];
  const value: DeployIo = {
    env: (name) => over.envVars?.[name],
    config: () => Promise.resolve({ org: "<your-org>", app: "splitee-edge" }),
    probeJsr: () => Promise.resolve(),
    run: (args) => {
      ran.push(args);
      return Promise.resolve({ code: 0, lastError: undefined });
    },
    print: (line) => printed.push(line),
    ...over,
  };
  return { io: value, ran, printed };
}

Deno.test("deploy: the org comes from --org, DENO_DEPLOY_ORG or deno.json, never the placeholder", async () => {
  const none = io();
  await assert.rejects(deploy([], none.io), (e: unknown) => {
    assert.ok(e instanceof CliError);
    assert.equal(e.code, 2);
    assert.match(e.message, /set DENO_DEPLOY_ORG=<your-org> \(or pass --org <your-org>\)/);
    return true;
  });
  assert.deepEqual(none.ran, []);

  const fromEnv = io({ envVars: { DENO_DEPLOY_ORG: "acme" } });
  assert.equal(await deploy([], fromEnv.io), 0);
  assert.deepEqual(fromEnv.ran, [["deploy", "--org", "acme", "--app", "splitee-edge", "--prod"]]);

  const fromFlags = io({ envVars: { DENO_DEPLOY_ORG: "acme", DENO_DEPLOY_APP: "x" } });
  assert.equal(await deploy(["--org", "mine", "--app", "edge2", "--", "--no-wait"], fromFlags.io), 0);
  assert.deepEqual(fromFlags.ran, [["deploy", "--org", "mine", "--app", "edge2", "--prod", "--no-wait"]]);

  assert.deepEqual(resolveTarget({}, () => undefined, { org: "team", app: "a" }), { org: "team", app: "a" });
  assert.deepEqual(resolveTarget({ org: " " }, (n) => (n === "DENO_DEPLOY_ORG" ? "e" : undefined), { app: "a" }), {
    org: "e",
    app: "a",
  });
});

Deno.test("deploy: --dry-run prints the command; unreachable JSR and a failed deno deploy are one line", async () => {
  const dry = io({ envVars: { DENO_DEPLOY_ORG: "acme" } });
  assert.equal(await deploy(["--dry-run"], dry.io), 0);
  assert.deepEqual(dry.printed, ["deno deploy --org acme --app splitee-edge --prod"]);
  assert.deepEqual(dry.ran, []);

  const offline = io({
    envVars: { DENO_DEPLOY_ORG: "acme" },
    probeJsr: () =>
      Promise.reject(
        new TypeError(
          "error sending request for url (https://jsr.io/@deno/deploy/meta.json): client error (Connect): " +
            "dns error: failed to lookup address information: Temporary failure in name resolution",
        ),
      ),
  });
  await assert.rejects(
    deploy([], offline.io),
    /^CliError: cannot reach https:\/\/jsr\.io \(Temporary failure in name resolution\); `deno deploy` downloads/,
  );
  assert.deepEqual(offline.ran, []);

  const failing = io({
    envVars: { DENO_DEPLOY_ORG: "acme" },
    run: () => Promise.resolve({ code: 1, lastError: "error: app not found" }),
  });
  await assert.rejects(deploy([], failing.io), /deno deploy failed \(exit 1\): error: app not found/);
  await assert.rejects(deploy(["--bogus"], io().io), /Unknown option '--bogus'.*--help/);
  assert.equal(shortCause(new DOMException("timed out", "TimeoutError")), "no answer in time");
});
