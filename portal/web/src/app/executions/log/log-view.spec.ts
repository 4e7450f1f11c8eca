/** @jest-environment jsdom */
import '../../../testing/test-bed';
import { provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { LogChunk } from './log-buffer';
import { LogView } from './log-view';

const ESC = '\x1b';

/** The portal's side of `GET /executions/:id/logs?follow=1`, driven by the test (jsdom has no EventSource). */
class FakeEventSource {
  static latest: FakeEventSource | null = null;
  isClosed = false;
  private readonly listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();

  constructor(readonly url: string) {
    FakeEventSource.latest = this;
  }

  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.isClosed = true;
  }

  send(type: string, data: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) listener(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
}

/**
 * jsdom lays nothing out: the viewport gets the height its style asks for, and scrolls as a browser's would
 * (clamped to the content the CDK's spacer claims, firing `scroll`), so the virtual scroll works as on a page.
 */
function layOut(viewport: HTMLElement): void {
  let scrollTop = 0;
  const height = () => parseFloat(viewport.style.height) || 0;
  const contentHeight = () => parseFloat(viewport.querySelector<HTMLElement>('.cdk-virtual-scroll-spacer')?.style.height ?? '') || 0;
  Object.defineProperty(viewport, 'clientHeight', { get: height });
  Object.defineProperty(viewport, 'scrollHeight', { get: () => Math.max(contentHeight(), height()) });
  Object.defineProperty(viewport, 'scrollTop', {
    get: () => scrollTop,
    set: (top: number) => {
      scrollTop = Math.max(0, Math.min(top, viewport.scrollHeight - height()));
      viewport.dispatchEvent(new Event('scroll'));
    },
  });
  viewport.scrollTo = ((options: ScrollToOptions) => {
    if (options.top !== undefined) viewport.scrollTop = options.top;
  }) as typeof viewport.scrollTo;
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

class LogPage {
  constructor(readonly fixture: ComponentFixture<LogView>) {}

  get element(): HTMLElement {
    return this.fixture.nativeElement;
  }

  get viewport(): HTMLElement {
    return this.element.querySelector('[role="log"]')!;
  }

  get stream(): FakeEventSource {
    return FakeEventSource.latest!;
  }

  /** The line numbers of the rows in the DOM. */
  renderedLines(): number[] {
    return [...this.element.querySelectorAll('.log-line .ln')].map((ln) => Number(ln.textContent));
  }

  lineText(n: number): HTMLElement {
    const row = [...this.element.querySelectorAll<HTMLElement>('.log-line')].find(
      (r) => r.querySelector('.ln')?.textContent?.trim() === String(n),
    );
    if (!row) throw new Error(`line ${n} is not in the DOM (rendered: ${this.renderedLines().join(', ')})`);
    return row.querySelector<HTMLElement>('.text')!;
  }

  status(): string {
    return this.element.querySelector('[role="status"]')!.textContent!.replace(/\s+/g, ' ').trim();
  }

  followButton(): HTMLButtonElement {
    return [...this.element.querySelectorAll<HTMLButtonElement>('button')].find((b) => b.hasAttribute('aria-pressed'))!;
  }

  sendLines(lines: string[], node = 'local'): void {
    const chunk: LogChunk = { node, step: 'write', stream: 'stdout', data: lines.map((line) => `${line}\n`).join('') };
    this.stream.send('log', chunk);
  }

  search(text: string): void {
    const input = this.element.querySelector<HTMLInputElement>('#log-search')!;
    input.value = text;
    input.dispatchEvent(new Event('input'));
  }

  /** Waits until the view shows what it should: the frame that takes new lines in, the CDK's range, the scroll. */
  async until(condition: () => boolean, what: string): Promise<void> {
    for (let frame = 0; frame < 120; frame++) {
      await this.fixture.whenStable();
      if (condition()) return;
      await nextFrame();
    }
    throw new Error(
      `the log view never showed ${what} (rendered lines: ${this.renderedLines().slice(0, 5).join(', ')}…; status: ${this.status()})`,
    );
  }

  /** A few frames for anything pending to land, for checking that something did not happen. */
  async settle(): Promise<void> {
    for (let frame = 0; frame < 5; frame++) {
      await this.fixture.whenStable();
      await nextFrame();
    }
    await this.fixture.whenStable();
  }
}

async function renderLogView(nodes: string[] = ['local']): Promise<LogPage> {
  const fixture = TestBed.createComponent(LogView);
  fixture.componentRef.setInput('executionId', 'exec-1');
  fixture.componentRef.setInput('nodes', nodes);
  const page = new LogPage(fixture);
  layOut(page.viewport);
  await fixture.whenStable();
  page.stream.send('open', {});
  return page;
}

function numbered(count: number, from = 1): string[] {
  return Array.from({ length: count }, (_, i) => `line ${from + i}`);
}

beforeEach(() => {
  Object.assign(globalThis, { EventSource: FakeEventSource });
  FakeEventSource.latest = null;
  TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection(), provideRouter([])] });
});

describe('log view', () => {
  it('follows the execution’s log stream and says when it ended', async () => {
    const page = await renderLogView();
    const endedWith: string[] = [];
    page.fixture.componentInstance.ended.subscribe((status) => endedWith.push(status));
    expect(page.stream.url).toMatch(/^\/api\/v1\/executions\/exec-1\/logs\?follow=1&access_token=/);

    page.sendLines(['hello, Baton']);
    page.stream.send('end', { status: 'succeeded' });
    await page.until(() => page.renderedLines().length === 1, 'the one line');

    expect(page.lineText(1).textContent!.trim()).toBe('hello, Baton');
    expect(page.status()).toBe('Ended (succeeded) · 1 line');
    expect(endedWith).toEqual(['succeeded']);
    expect(page.stream.isClosed).toBe(true);
  });

  it('draws ANSI colours and bold as styled spans, without the escape sequences', async () => {
    const page = await renderLogView();
    page.sendLines([`${ESC}[31mFAILED${ESC}[0m disk ${ESC}[1;32mok${ESC}[0m`, `${ESC}[38;2;255;128;0mamber${ESC}[0m plain`]);
    await page.until(() => page.renderedLines().length === 2, 'two lines');

    const first = page.lineText(1);
    expect(first.textContent!.replace(/\s+/g, ' ').trim()).toBe('FAILED disk ok');
    expect(first.textContent).not.toContain(ESC);
    const [red, boldGreen] = [...first.querySelectorAll('span')];
    expect(red.textContent).toBe('FAILED');
    expect(red.style.color).toBe('var(--ansi-1)');
    expect(boldGreen.textContent).toBe('ok');
    expect(boldGreen.style.color).toBe('var(--ansi-2)');
    expect(boldGreen.classList).toContain('ansi-bold');

    const second = page.lineText(2);
    const amber = second.querySelector('span')!;
    expect(amber.textContent).toBe('amber');
    expect(amber.style.color).toBe('rgb(255, 128, 0)');
    expect(second.querySelectorAll('span')).toHaveLength(1); // " plain" is unstyled text
  });

  it('keeps only the lines that match the search and marks each match, case-insensitively', async () => {
    const page = await renderLogView();
    page.sendLines(['starting nginx', `${ESC}[31mError${ESC}[0m: port 80 in use`, 'retrying', 'error again, then ERROR', 'done']);
    await page.until(() => page.renderedLines().length === 5, 'five lines');

    page.search('error');
    await page.until(() => page.renderedLines().length === 2, 'the two matching lines');

    expect(page.renderedLines()).toEqual([2, 4]);
    expect(page.status()).toContain('2 of 5 lines');
    const marks = (n: number) => [...page.lineText(n).querySelectorAll('mark')].map((m) => m.textContent);
    expect(marks(2)).toEqual(['Error']);
    expect(marks(4)).toEqual(['error', 'ERROR']);

    page.search('');
    await page.until(() => page.renderedLines().length === 5, 'all lines again');
    expect(page.element.querySelectorAll('mark')).toHaveLength(0);
    expect(page.status()).toContain('5 lines');
    expect(page.status()).not.toContain(' of ');
  });

  it('follows new lines to the end until paused, and resumes when asked', async () => {
    const page = await renderLogView();
    const button = page.followButton();
    expect(button.textContent!.trim()).toBe('Pause');
    expect(button.getAttribute('aria-pressed')).toBe('true');
    expect(page.viewport.getAttribute('aria-live')).toBe('polite');

    page.sendLines(numbered(500));
    await page.until(() => page.renderedLines().includes(500), 'the last of 500 lines');
    expect(page.renderedLines()).not.toContain(1);
    const scrollTopAtPause = page.viewport.scrollTop;

    button.click();
    await page.settle();
    expect(button.textContent!.trim()).toBe('Follow');
    expect(button.getAttribute('aria-pressed')).toBe('false');
    expect(page.viewport.getAttribute('aria-live')).toBe('off');

    page.sendLines(numbered(500, 501));
    await page.until(() => page.status().includes('1000 lines'), '1000 lines counted');
    await page.settle();
    expect(page.viewport.scrollTop).toBe(scrollTopAtPause);
    expect(page.renderedLines()).toContain(500);
    expect(page.renderedLines()).not.toContain(1000);

    button.click();
    await page.until(() => page.renderedLines().includes(1000), 'the end of the log after Follow');
    expect(button.getAttribute('aria-pressed')).toBe('true');
  });

  it('pauses when the reader scrolls up and follows again on End', async () => {
    const page = await renderLogView();
    page.sendLines(numbered(300));
    await page.until(() => page.renderedLines().includes(300), 'the last of 300 lines');

    page.viewport.dispatchEvent(new WheelEvent('wheel', { deltaY: -120 }));
    await page.settle();
    expect(page.followButton().getAttribute('aria-pressed')).toBe('false');
    page.sendLines(numbered(300, 301));
    await page.until(() => page.status().includes('600 lines'), '600 lines counted');
    await page.settle();
    expect(page.renderedLines()).not.toContain(600);

    page.viewport.dispatchEvent(new KeyboardEvent('keydown', { key: 'End' }));
    page.sendLines(['line 601']);
    await page.until(() => page.renderedLines().includes(601), 'the newest line after End');
    expect(page.followButton().getAttribute('aria-pressed')).toBe('true');
  });

  it('keeps only a window of rows in the page for a 100,000-line log', async () => {
    const page = await renderLogView();
    // A first 2,000 lines: were every line a row, this fails here at once, not after drawing 100,000 rows.
    page.sendLines(numbered(2_000));
    await page.until(() => page.renderedLines().includes(2_000), 'the last of 2,000 lines');
    expect(page.renderedLines().length).toBeLessThan(150);

    page.sendLines(numbered(98_000, 2_001));
    await page.until(() => page.renderedLines().includes(100_000), 'the last of 100,000 lines');
    expect(page.status()).toContain('100000 lines');
    const spacer = page.viewport.querySelector<HTMLElement>('.cdk-virtual-scroll-spacer')!;
    expect(spacer.style.height).toBe(`${100_000 * 20}px`); // the scrollbar spans the whole log
    const rows = page.renderedLines();
    expect(rows.length).toBeGreaterThanOrEqual(30); // the 30 lines the viewport shows...
    expect(rows.length).toBeLessThan(150); // ...and a buffer around them, never the whole log
    expect(rows).not.toContain(1);

    page.viewport.dispatchEvent(new KeyboardEvent('keydown', { key: 'Home' })); // pauses, then the browser scrolls up
    page.viewport.scrollTop = 0;
    await page.until(() => page.renderedLines().includes(1), 'the first line after scrolling to the top');
    expect(page.renderedLines()).not.toContain(100_000);
    expect(page.renderedLines().length).toBeLessThan(150);
  });
});
