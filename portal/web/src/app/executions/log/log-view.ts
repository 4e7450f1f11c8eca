/**
 * The live log of one execution: server-sent events from `/executions/:id/logs?follow=1` (`log` and `end`),
 * drawn with CDK virtual scrolling so only the visible lines are in the page (100,000 lines stay smooth),
 * with follow/pause, search, a per-node filter and download.
 */
import { Component, DestroyRef, ElementRef, computed, effect, inject, input, output, signal, untracked, viewChild } from '@angular/core';
import { CdkVirtualScrollViewport, ScrollingModule } from '@angular/cdk/scrolling';
import { Api } from '../../core/api';
import { saveFile } from '../../core/format';
import { Session } from '../../core/session';
import { segmentCss } from './ansi';
import { LogBuffer, LogChunk, LogLine, MarkedSegment, filterLines, markMatches } from './log-buffer';

const LINE_HEIGHT_PX = 20;
const MAX_RECONNECTS = 5;

@Component({
  selector: 'baton-log-view',
  imports: [ScrollingModule],
  template: `
    <div class="log-toolbar">
      <div class="field">
        <label for="log-search">Search log</label>
        <input id="log-search" type="search" [value]="query()" (input)="query.set(textOf($event))" placeholder="text to find" />
      </div>
      @if (nodes().length > 1) {
        <div class="field">
          <label for="log-node">Node</label>
          <select id="log-node" (change)="nodeFilter.set(textOf($event) || null)">
            <option value="" [selected]="nodeFilter() === null">All nodes</option>
            @for (node of nodes(); track node) {
              <option [value]="node" [selected]="nodeFilter() === node">{{ node }}</option>
            }
          </select>
        </div>
      }
      <button type="button" class="quiet" (click)="toggleFollow()" [attr.aria-pressed]="isFollowing()">
        {{ isFollowing() ? 'Pause' : 'Follow' }}
      </button>
      <button type="button" class="quiet" (click)="download()" [disabled]="lineCount() === 0">Download log</button>
      <span class="small muted" role="status" aria-live="polite">
        {{ streamState() }} ·
        @if (shown().length !== lineCount()) {
          {{ shown().length }} of
        }
        {{ lineCount() }} line{{ lineCount() === 1 ? '' : 's' }}
      </span>
    </div>
    <cdk-virtual-scroll-viewport
      #viewport
      class="log-viewport"
      [itemSize]="lineHeight"
      [minBufferPx]="600"
      [maxBufferPx]="1200"
      [style.height.px]="viewportHeight()"
      tabindex="0"
      role="log"
      aria-label="Execution log"
      [attr.aria-live]="isFollowing() ? 'polite' : 'off'"
      (wheel)="onWheel($event)"
      (keydown)="onKey($event)"
    >
      <div *cdkVirtualFor="let line of shown(); trackBy: trackLine" class="log-line" [class.stderr]="line.stream === 'stderr'">
        <span class="ln">{{ line.number }}</span>
        @if (nodes().length > 1) {
          <span class="src">{{ line.node }}</span>
        }
        <span class="text">
          @for (segment of marked(line); track $index) {
            @if (segment.isMatch) {
              <mark>{{ segment.text }}</mark>
            } @else if (hasStyle(segment)) {
              <span [class]="css(segment).classes" [style.color]="css(segment).color" [style.background]="css(segment).background">{{
                segment.text
              }}</span>
            } @else {
              {{ segment.text }}
            }
          }
        </span>
      </div>
    </cdk-virtual-scroll-viewport>
    @if (lineCount() === 0) {
      <p class="muted small">{{ isEnded() ? 'This execution wrote no output.' : 'Waiting for output…' }}</p>
    }
  `,
})
export class LogView {
  readonly executionId = input.required<string>();
  /** Node names of the execution, for the node filter and the per-line source. */
  readonly nodes = input<string[]>([]);
  /** Emits the final status when the stream says the execution ended. */
  readonly ended = output<string>();

  protected readonly lineHeight = LINE_HEIGHT_PX;
  protected readonly query = signal('');
  protected readonly nodeFilter = signal<string | null>(null);
  protected readonly isFollowing = signal(true);
  protected readonly isEnded = signal(false);
  protected readonly streamState = signal('Connecting');
  private readonly snapshot = signal<readonly LogLine[]>([]);
  protected readonly lineCount = computed(() => this.snapshot().length);
  protected readonly shown = computed(() => filterLines(this.snapshot(), { node: this.nodeFilter(), query: this.query() }));
  /** A short log gets a short box; a long one at most about 30 lines high. */
  protected readonly viewportHeight = computed(() => Math.min(Math.max(this.shown().length, 8), 30) * LINE_HEIGHT_PX + 8);

  private readonly viewport = viewChild.required<CdkVirtualScrollViewport>('viewport');
  private readonly host = inject(ElementRef<HTMLElement>);
  private readonly api = inject(Api);
  private readonly session = inject(Session);
  private readonly buffer = new LogBuffer();
  private source?: EventSource;
  private isFlushScheduled = false;
  private reconnects = 0;

  constructor() {
    effect((onCleanup) => {
      const id = this.executionId();
      untracked(() => this.open(id));
      onCleanup(() => this.close());
    });
    inject(DestroyRef).onDestroy(() => this.close());
  }

  protected textOf(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected trackLine(_index: number, line: LogLine): number {
    return line.number;
  }

  protected marked(line: LogLine): MarkedSegment[] {
    return markMatches(line.segments, this.query());
  }

  protected hasStyle(segment: MarkedSegment): boolean {
    return Object.keys(segment.style).length > 0;
  }

  protected css(segment: MarkedSegment) {
    return segmentCss(segment.style);
  }

  protected toggleFollow(): void {
    this.isFollowing.set(!this.isFollowing());
    if (this.isFollowing()) this.scrollToEnd();
  }

  /** Scrolling up (wheel or keys) pauses following, so the lines one is reading stay put. */
  protected onWheel(event: WheelEvent): void {
    if (event.deltaY < 0) this.isFollowing.set(false);
  }

  protected onKey(event: KeyboardEvent): void {
    if (['ArrowUp', 'PageUp', 'Home'].includes(event.key)) this.isFollowing.set(false);
    if (event.key === 'End') this.isFollowing.set(true);
  }

  protected download(): void {
    saveFile(new Blob([this.buffer.toText()], { type: 'text/plain' }), `execution-${this.executionId()}.log`);
  }

  private open(id: string): void {
    this.close();
    this.buffer.clear();
    this.snapshot.set([]);
    this.isEnded.set(false);
    const token = this.session.token() ?? '';
    const url = `/api/v1/executions/${encodeURIComponent(id)}/logs?follow=1&access_token=${encodeURIComponent(token)}`;
    const source = new EventSource(url);
    this.source = source;
    this.streamState.set('Connecting');
    source.addEventListener('open', () => this.streamState.set('Live'));
    source.addEventListener('log', (event) => {
      this.buffer.append(JSON.parse((event as MessageEvent<string>).data) as LogChunk);
      this.scheduleFlush();
    });
    source.addEventListener('end', (event) => {
      const { status } = JSON.parse((event as MessageEvent<string>).data) as { status: string };
      this.close();
      this.buffer.finish();
      this.flush();
      this.isEnded.set(true);
      this.streamState.set(`Ended (${status})`);
      this.ended.emit(status);
    });
    source.addEventListener('error', () => void this.reconnect(id));
  }

  /**
   * The stream broke (network, portal restart, or the access token expired). The portal replays the whole log
   * on a new connection, so start from an empty buffer; renew the session first by asking the API something.
   */
  private async reconnect(id: string): Promise<void> {
    this.close();
    if (this.isEnded() || id !== this.executionId()) return;
    if (this.reconnects >= MAX_RECONNECTS) {
      this.streamState.set('Disconnected — reload the page to try again');
      return;
    }
    this.reconnects++;
    this.streamState.set('Reconnecting');
    await new Promise((resolve) => setTimeout(resolve, 1000 * this.reconnects));
    await this.api.getJson(`/executions/${encodeURIComponent(id)}`).catch(() => undefined);
    if (id === this.executionId() && !this.isEnded()) this.open(id);
  }

  private close(): void {
    this.source?.close();
    this.source = undefined;
  }

  /** At most one view update per animation frame, however many chunks arrive. */
  private scheduleFlush(): void {
    if (this.isFlushScheduled) return;
    this.isFlushScheduled = true;
    requestAnimationFrame(() => {
      this.isFlushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    this.snapshot.set(this.buffer.lines.slice());
    if (this.isFollowing()) this.scrollToEnd();
  }

  private scrollToEnd(): void {
    requestAnimationFrame(() => {
      if (!this.host.nativeElement.isConnected) return;
      const viewport = this.viewport();
      viewport.checkViewportSize();
      viewport.scrollToIndex(this.shown().length, 'auto');
    });
  }
}
