import { serverSentEvents, SseParser } from './sse';

describe('server-sent events', () => {
  it('yields each event once its blank line arrives, whatever the chunking', () => {
    const text = 'event: log\ndata: {"a":1}\n\nevent: end\ndata: {"status":"succeeded"}\n\n';
    for (const size of [1, 3, 7, text.length]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
      expect(events).toEqual([
        { event: 'log', data: '{"a":1}' },
        { event: 'end', data: '{"status":"succeeded"}' },
      ]);
    }
  });

  it('joins data lines, ignores comments and unknown fields, and reads CRLF split across chunks', () => {
    const parser = new SseParser();
    const events = [...parser.push(': keep-alive\r'), ...parser.push('\ndata: one\r\ndata: two\r\nid: 7\r'), ...parser.push('\n\r\n')];
    expect(events).toEqual([{ event: 'message', data: 'one\ntwo' }]);
  });

  it('reads a fetch-like body and ends an unterminated last event', async () => {
    async function* body() {
      yield new TextEncoder().encode('event: log\ndata: x');
      yield new TextEncoder().encode('y\n');
    }
    const events = [];
    for await (const event of serverSentEvents(body())) events.push(event);
    expect(events).toEqual([{ event: 'log', data: 'xy' }]);
  });
});
