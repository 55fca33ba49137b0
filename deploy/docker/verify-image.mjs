#!/usr/bin/env node
// Builds the image with podman and checks it: metadata (non-root user, the three ports, a
// HEALTHCHECK), no dev dependency inside, onnxruntime binaries for this platform only; then runs
// it as its user from its own root filesystem, waits until the HEALTHCHECK's own command passes
// (run inside the image, and failing before the server is up), answers an inference, and stops
// it with SIGTERM, expecting exit code 0.
//
//   node deploy/docker/verify-image.mjs [BASE_IMAGE] [IMAGE]
//
// BASE_IMAGE (default node:20-bookworm-slim) is passed as the Dockerfile's NODE_IMAGE; on a
// machine without a registry, a base made from a local root filesystem (docs/deployment.md).
// Runs as root, from the repository's root, with ports 8000-8002 free (the HEALTHCHECK asks 8000).
//
// Where podman can create containers, `podman run` does the same; where it cannot (nested
// containers without cgroup controllers or rlimits), the build uses chroot isolation and the run
// is a chroot into the mounted image as the image's user: the image's files, user, working
// directory, entry point and command, without a container's isolation.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const base = process.argv[2] ?? 'node:20-bookworm-slim';
const image = process.argv[3] ?? 'localhost/nereid:verify';
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', ...opts }).trim();
const fail = (msg) => { console.error(`verify-image: ${msg}`); process.exit(1); };

execFileSync('podman', ['build', '--isolation', 'chroot', '--network=host', '--format', 'docker', '--build-arg', `NODE_IMAGE=${base}`, '-t', image, '.'], { stdio: 'inherit' });

const inspected = JSON.parse(sh('podman', ['image', 'inspect', image]))[0];
const { User: user, WorkingDir: workdir, Entrypoint: entry, Cmd: cmd, ExposedPorts: ports } = inspected.Config;
// podman lists the HEALTHCHECK beside Config (docker within it).
const health = inspected.Healthcheck ?? inspected.Config.Healthcheck;
console.log(`user ${user}, workdir ${workdir}, ports ${Object.keys(ports).join(' ')}, entrypoint ${JSON.stringify(entry)}, cmd ${JSON.stringify(cmd)}`);
if (!user || /^(0|root)(:|$)/.test(user)) fail('the image runs as root');
for (const p of ['8000/tcp', '8001/tcp', '8002/tcp']) if (!(p in ports)) fail(`${p} is not exposed`);
if (health?.Test?.[0] !== 'CMD') fail('no HEALTHCHECK CMD');

const root = sh('podman', ['image', 'mount', image]);
const app = path.join(root, workdir);
let proc = false;
const cleanup = () => {
  if (proc) execFileSync('umount', [path.join(root, 'proc')]);
  proc = false;
  execFileSync('podman', ['image', 'unmount', image], { stdio: 'ignore' });
};
try {
  // The lockfile marks every package only the dev dependencies need ("dev": true).
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')).packages;
  const devOnly = Object.keys(lock).filter((p) => lock[p].dev && p.startsWith('node_modules/'));
  const present = devOnly.filter((p) => existsSync(path.join(app, p)));
  console.log(`dev-only packages: ${devOnly.length} in the lockfile, ${present.length} in the image`);
  if (present.length > 0) fail(`dev-only packages in the image: ${present.join(', ')}`);
  const ortBin = path.join(app, 'node_modules', 'onnxruntime-node', 'bin');
  const left = readdirSync(ortBin).flatMap((napi) => readdirSync(path.join(ortBin, napi)).flatMap((os) => readdirSync(path.join(ortBin, napi, os)).map((a) => `${napi}/${os}/${a}`)));
  console.log(`onnxruntime binaries: ${left.join(', ')}`);
  if (left.length !== 1 || !left[0].includes('/linux/')) fail('other platforms\' onnxruntime binaries are left');
  console.log(sh('du', ['-sh', path.join(app, 'node_modules'), path.join(app, 'dist')]));

  execFileSync('mount', ['--bind', '/proc', path.join(root, 'proc')]);
  proc = true;
  // The image's user, working directory, a clean environment, then argv as given.
  const inside = (argv) => ['--userspec', user, root, '/usr/bin/env', '-i', 'PATH=/usr/local/bin:/usr/bin:/bin', `HOME=${workdir}`, 'NODE_ENV=production', 'sh', '-c', 'cd "$0" && exec "$@"', workdir, ...argv];
  const healthy = () => {
    try {
      execFileSync('chroot', inside(health.Test.slice(1)), { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (healthy()) fail('the HEALTHCHECK passes before the server runs (is something on port 8000?)');
  const server = spawn('chroot', inside([...entry, ...cmd]), { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stdout.on('data', (c) => { log += c; });
  server.stderr.on('data', (c) => { log += c; });
  const exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
  let waited = 0;
  while (!healthy()) {
    if (++waited > 120) { server.kill('SIGKILL'); fail(`never healthy:\n${log}`); }
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log(`HEALTHCHECK passed after about ${waited} s`);
  const res = await fetch('http://127.0.0.1:8000/v2/models/simple/infer', { method: 'POST', body: JSON.stringify({ inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) }] }) });
  const out = (await res.json()).outputs[0].data;
  console.log(`inference: ${res.status}, OUTPUT0 ${JSON.stringify(out)}`);
  if (JSON.stringify(out) !== JSON.stringify(Array.from({ length: 16 }, (_, i) => i + 1))) fail('wrong answer');
  const pid = sh('pgrep', ['-f', '-n', `${entry.join(' ')}`]);
  console.log(`server process: ${sh('ps', ['-o', 'user=,args=', '-p', pid])}`);
  server.kill('SIGTERM'); // chroot execs env, which execs sh, which execs node: the signal reaches node
  const { code, signal } = await exited;
  console.log(`after SIGTERM: exit code ${code}${signal ? `, signal ${signal}` : ''}`);
  console.log(log.trim().split('\n').slice(-3).join('\n'));
  if (code !== 0) fail('did not exit 0 on SIGTERM');
  console.log('verify-image: ok');
} finally {
  cleanup();
}
