// Drives headless Chromium (Debian's) over the DevTools protocol: loads the front page, logs in to
// wp-admin through the login form, opens Tools → Secrets, and prints both pages' HTML as JSON.
// usage: node --experimental-websocket e2e/browser.mjs BASE_URL USER PASSWORD DEBUG_PORT PROFILE_DIR
import { spawn } from 'node:child_process';

const [base, user, password, port, profile] = process.argv.slice(2);
const chromium = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`,
  `--remote-debugging-port=${port}`, 'about:blank'], { stdio: 'ignore' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const deadline = setTimeout(() => { console.error('browser test timed out'); chromium.kill('SIGKILL'); process.exit(2); }, 60000);

async function target() {
  for (let i = 0; i < 100; i++) {
    try {
      const pages = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      const page = pages.find((p) => p.type === 'page');
      if (page) return page.webSocketDebuggerUrl;
    } catch { /* not up yet */ }
    await sleep(100);
  }
  throw new Error('chromium did not start');
}

const ws = new WebSocket(await target());
await new Promise((r) => ws.addEventListener('open', r, { once: true }));
let id = 0;
const waiting = new Map();
const events = [];
ws.addEventListener('message', (m) => {
  const msg = JSON.parse(m.data);
  if (msg.id && waiting.has(msg.id)) { waiting.get(msg.id)(msg); waiting.delete(msg.id); } else if (msg.method) events.push(msg.method);
});
const send = (method, params = {}) => new Promise((resolve) => { const n = ++id; waiting.set(n, resolve); ws.send(JSON.stringify({ id: n, method, params })); });
async function loaded(action) {
  events.length = 0;
  await action();
  for (let i = 0; i < 300 && !events.includes('Page.loadEventFired'); i++) await sleep(50);
}
const html = async () => (await send('Runtime.evaluate', { expression: 'document.documentElement.outerHTML', returnByValue: true })).result.result.value;

await send('Page.enable');
await loaded(() => send('Page.navigate', { url: `${base}/` }));
const front = await html();
await loaded(() => send('Page.navigate', { url: `${base}/wp-login.php` }));
await loaded(() => send('Runtime.evaluate', { expression:
  `document.getElementById('user_login').value = ${JSON.stringify(user)};
   document.getElementById('user_pass').value = ${JSON.stringify(password)};
   document.getElementById('loginform').submit();` }));
await loaded(() => send('Page.navigate', { url: `${base}/wp-admin/tools.php?page=pantheon-secrets` }));
const admin = await html();
console.log(JSON.stringify({ front, admin }));
clearTimeout(deadline);
ws.close();
chromium.kill('SIGKILL');
process.exit(0);
