/**
 * The dispatch queue: accepting a run and starting it are separate. Accepted executions wait `queued` in the
 * database; each replica claims what the limits allow (its own in-flight bound, per-runbook/per-key concurrency,
 * the per-node cap) and starts it through the launcher DispatchService registers. Past the queue bound new runs get
 * 429 with Retry-After; a run queued too long ends `failed` with the reason. A restart loses nothing: the queue is
 * the table.
 */
import {
  ConflictException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { MetricsService } from '../core/metrics.service';
import { ReplicaService } from '../core/replica.service';
import { ExecutionsService, type ClaimedExecution } from '../executions/executions.service';

const POLL_MS = 250;
const EXPIRE_EVERY_MS = 5000;
/** The queued count is read at most this often; accepted runs in between are added locally. */
const COUNT_TTL_MS = 200;
/** Claims over this window give the drain rate that Retry-After is estimated from. */
const RATE_WINDOW_MS = 5000;

export interface Launcher {
  /** Node runs about to be claimed: from now on they are driven here (the watchdog asks). */
  register(nodeRunIds: string[]): void;
  /** Starts a claimed execution. */
  launch(execution: ClaimedExecution): Promise<void>;
}

@Injectable()
export class DispatchQueueService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DispatchQueueService.name);
  private launcher?: Launcher;
  private inFlight = 0;
  private isPumping = false;
  private isWokenAgain = false;
  private isShuttingDown = false;
  private timer?: NodeJS.Timeout;
  private lastExpiry = 0;
  private queued = { count: 0, countedAt: 0 };
  private readonly claimTimes: number[] = [];

  constructor(
    private readonly executions: ExecutionsService,
    private readonly replica: ReplicaService,
    private readonly metrics: MetricsService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  setLauncher(launcher: Launcher): void {
    this.launcher = launcher;
  }

  onApplicationBootstrap(): void {
    // Finished runs free places: another replica's too, hence the poll.
    this.executions.events.on('executionFinished', () => this.wake());
    this.timer = setInterval(() => this.wake(), POLL_MS);
    this.wake();
  }

  onApplicationShutdown(): void {
    this.isShuttingDown = true;
    clearInterval(this.timer);
  }

  /**
   * Refuses a run before it is stored when the queue is full (429 with Retry-After) or, for a runbook with
   * `concurrency.onLimit: refuse`, when its key is at the limit (409).
   */
  async admit(concurrency: { key: string; limit: number; onLimit: 'queue' | 'refuse' } | undefined): Promise<void> {
    if (concurrency?.onLimit === 'refuse') {
      const active = await this.executions.activeWithKey(concurrency.key);
      if (active >= concurrency.limit) {
        this.metrics.executionsRefused.inc({ reason: 'concurrency' });
        throw new ConflictException(
          `${concurrency.key}: ${active} run(s) already queued or running, the runbook allows ${concurrency.limit} (concurrency.onLimit: refuse)`,
        );
      }
    }
    const queued = await this.queuedCount();
    if (queued >= this.config.queue.limit) {
      this.metrics.executionsRefused.inc({ reason: 'queue_full' });
      const retryAfterS = this.retryAfterSeconds(queued);
      throw new HttpException(
        {
          statusCode: HttpStatus.TOO_MANY_REQUESTS,
          error: 'Too Many Requests',
          message: `${queued} executions are waiting to start (the queue holds ${this.config.queue.limit}): retry in ${retryAfterS} s`,
          details: { retryAfterSeconds: retryAfterS },
        },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
  }

  /** Call after storing a queued execution: counts it and gets a dispatcher going. */
  accepted(): void {
    this.queued.count++;
    this.wake();
  }

  wake(): void {
    if (this.isPumping) {
      this.isWokenAgain = true;
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.isPumping = true;
    try {
      do {
        this.isWokenAgain = false;
        await this.expireNowAndThen();
        while (!this.isShuttingDown && this.launcher) {
          if ((await this.claimAndLaunch(this.config.queue.maxRunning - this.inFlight)) === 0) break;
        }
      } while (this.isWokenAgain && !this.isShuttingDown);
    } catch (err) {
      if (!this.isShuttingDown) this.logger.error({ err: String(err) }, 'dispatch queue: claiming failed; will retry');
    } finally {
      this.isPumping = false;
    }
  }

  /** Claims and starts what the limits allow; returns how many. */
  private async claimAndLaunch(slots: number): Promise<number> {
    if (slots <= 0) return 0;
    const launcher = this.launcher!;
    const claimed = await this.executions.claimQueued(this.replica.id, slots, this.config.queue.nodeMaxRuns, (ids) =>
      launcher.register(ids),
    );
    const now = Date.now();
    for (const execution of claimed) {
      this.claimTimes.push(now);
      this.launch(execution);
    }
    this.queued.count = Math.max(0, this.queued.count - claimed.length);
    return claimed.length;
  }

  private launch(execution: ClaimedExecution): void {
    this.inFlight++;
    this.launcher!.launch(execution)
      .catch((err) => this.logger.error({ err: String(err), executionId: execution.id }, 'could not start a claimed execution'))
      .finally(() => {
        this.inFlight--;
        this.wake();
      });
  }

  private async expireNowAndThen(): Promise<void> {
    if (Date.now() - this.lastExpiry < EXPIRE_EVERY_MS) return;
    this.lastExpiry = Date.now();
    await this.executions.expireQueued(this.config.queue.timeoutMs);
  }

  private async queuedCount(): Promise<number> {
    const now = Date.now();
    if (now - this.queued.countedAt > COUNT_TTL_MS) {
      this.queued = { count: await this.executions.queuedCount(), countedAt: now };
      this.metrics.executionsQueued.set(this.queued.count);
    }
    return this.queued.count;
  }

  /** How long the queue takes to drain by the recent claim rate (of this replica), at least 1 s. */
  private retryAfterSeconds(queued: number): number {
    const since = Date.now() - RATE_WINDOW_MS;
    while (this.claimTimes.length > 0 && this.claimTimes[0] < since) this.claimTimes.shift();
    const perSecond = this.claimTimes.length / (RATE_WINDOW_MS / 1000);
    return perSecond > 0 ? Math.min(60, Math.max(1, Math.ceil((queued - this.config.queue.limit + 1) / perSecond))) : 5;
  }
}
