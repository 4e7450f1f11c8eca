/**
 * Watches the directories of RUNBOOKS_DIR and reports a burst of changes once, after it has been quiet for the
 * debounce: an editor's save (often a write, a rename and a chmod) or a `git pull` becomes one reload.
 * Each directory is watched on its own (node:fs `watch`, not recursive: Node 20 on Linux emulates that by
 * walking the tree itself); the owner passes the current directory list after each load.
 */
import { watch, type FSWatcher } from 'node:fs';

export class ResourceWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private timer?: NodeJS.Timeout;
  private isClosed = false;

  constructor(
    private readonly onQuiet: () => void,
    private readonly debounceMs: number,
    private readonly onWatchError: (dir: string, err: Error) => void,
  ) {}

  /**
   * Watches exactly these directories: new ones are added, vanished ones dropped. A directory added after the
   * first call may have received files before its watch began (`mkdir -p x && cp ... x/`): that counts as a change.
   */
  watchDirectories(dirs: string[]): void {
    if (this.isClosed) return;
    const isFirst = this.watchers.size === 0;
    const wanted = new Set(dirs);
    for (const [dir, watcher] of this.watchers) {
      if (wanted.has(dir)) continue;
      watcher.close();
      this.watchers.delete(dir);
    }
    const added = [...wanted].filter((dir) => !this.watchers.has(dir));
    for (const dir of added) this.add(dir);
    if (added.length > 0 && !isFirst) this.changed();
  }

  close(): void {
    this.isClosed = true;
    clearTimeout(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private add(dir: string): void {
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false }, () => this.changed());
    } catch (err) {
      this.onWatchError(dir, err as Error);
      return;
    }
    // A watched directory that is deleted or replaced ends its watch: forget it, the next load lists it again.
    watcher.on('error', () => {
      watcher.close();
      if (this.watchers.get(dir) === watcher) this.watchers.delete(dir);
      this.changed();
    });
    this.watchers.set(dir, watcher);
  }

  private changed(): void {
    if (this.isClosed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onQuiet(), this.debounceMs);
  }
}
