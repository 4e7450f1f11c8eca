/**
 * The cheap reachability check of an SSH node: a TCP connection and the server's `SSH-` identification line,
 * no key exchange and no login, so checking many nodes often costs them almost nothing.
 */
import { connect } from 'node:net';

export type BannerCheck = { isReachable: true; banner: string } | { isReachable: false; reason: string };

export function checkSshBanner(host: string, port: number, timeoutMs: number): Promise<BannerCheck> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = '';
    const done = (result: BannerCheck) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ isReachable: false, reason: `no SSH banner from ${host}:${port} within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      // Servers may send other lines before the identification string (RFC 4253 4.2).
      const line = received.split('\r\n').find((l) => l.startsWith('SSH-'));
      if (line) done({ isReachable: true, banner: line.trim() });
      else if (received.length > 8192) done({ isReachable: false, reason: `${host}:${port} answers, but not as an SSH server` });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const reason =
        err.code === 'ECONNREFUSED'
          ? `connection refused by ${host}:${port}`
          : err.code === 'ENOTFOUND'
            ? `DNS lookup of "${host}" failed (no such host)`
            : `${host}:${port}: ${err.message}`;
      done({ isReachable: false, reason });
    });
    socket.on('end', () => done({ isReachable: false, reason: `${host}:${port} closed the connection without an SSH banner` }));
  });
}
