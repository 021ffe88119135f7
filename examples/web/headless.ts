import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, serve } from './serve';

/** Debian's chromium binary (the /usr/bin/chromium wrapper adds flags and noise). */
export const CHROMIUM = '/usr/lib/chromium/chromium';
export const MODULE = path.join(ROOT, 'dist', 'browser', 'onnx-explain.mjs');
/** Flags from ../shared/runtime-notes.md; --enable-unsafe-webgpu exposes SwiftShader's adapter. */
const FLAGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Why browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install chromium)`;
  if (!fs.existsSync(MODULE)) return `${MODULE} not built (npm run build)`;
  return undefined;
}

export interface BrowserSession { browser: Browser; page: Page; url: string; console: string[]; close(): Promise<void> }

/**
 * Headless Chromium (used by the browser tests, the browser bench and scripts/check-pack.js) on a
 * page served from `root` (the repository; test/support/blank.html unless `start` names another
 * page), every console message collected in order.
 */
export async function openPage(start = '/test/support/blank.html', root = ROOT): Promise<BrowserSession> {
  const { chromium } = await import('playwright-core');
  const server = await serve(root);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  const page = await browser.newPage();
  const messages: string[] = [];
  page.on('console', (m) => messages.push(m.text()));
  page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
  await page.goto(server.url + start);
  return {
    browser, page, url: server.url, console: messages,
    close: async () => { await browser.close(); await server.close(); },
  };
}

/** /proc/<pid>/status of every process started (directly or not) by this Node process. */
function descendants(): { cmdline: string; status: string }[] {
  const parent = new Map<number, number>();
  const read = new Map<number, { cmdline: string; status: string }>();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number)) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      parent.set(pid, Number(/PPid:\s+(\d+)/.exec(status)?.[1] ?? 0));
      read.set(pid, { status, cmdline: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') });
    } catch {
      // the process ended meanwhile
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid); p; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...read].filter(([pid]) => mine(pid)).map(([, r]) => r);
}

/**
 * Resident memory (MB) of the pages of the Chromium instances this process launched (renderer
 * processes only, not other users' browsers on the machine): the largest current resident set
 * (VmRSS) and the largest peak (VmHWM) since the renderer started, from /proc (Linux).
 */
export function rendererMemoryMB(): { rss: number; peak: number } {
  let [rss, peak] = [0, 0];
  for (const { cmdline, status } of descendants()) {
    if (!cmdline.includes('--type=renderer')) continue;
    const mb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
    [rss, peak] = [Math.max(rss, mb('VmRSS')), Math.max(peak, mb('VmHWM'))];
  }
  return { rss, peak };
}
