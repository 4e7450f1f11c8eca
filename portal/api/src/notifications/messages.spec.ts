import { emailOf, plainText, slackBody, teamsBody, webhookBody } from './messages';
import type { NotificationEvent } from './notification-event';

const failed: NotificationEvent = {
  id: 'execution.failed/4f1c',
  type: 'execution.failed',
  occurredAt: '2025-11-24T10:00:00.000Z',
  scope: { namespace: 'ops', runbook: 'ops.backup', trigger: 'user' },
  title: 'ops.backup failed',
  run: {
    id: '4f1c',
    runbook: 'ops.backup',
    runbookTitle: 'Back up <db> & files',
    status: 'failed',
    reason: 'web-1 failed',
    triggeredBy: 'user alice',
    nodes: [
      { node: 'web-1', status: 'failed' },
      { node: 'web-2', status: 'succeeded' },
    ],
    durationMs: 185_000,
    failingStep: { node: 'web-1', step: 'dump', exitCode: 2, logTail: ['dumping...', 'error: disk full ``` ***'] },
  },
  link: 'https://baton.example/executions/4f1c',
};

describe('notification messages', () => {
  it('says in plain text what ran, who started it, where, how long, what failed and the end of its log', () => {
    expect(plainText(failed)).toBe(
      [
        'ops.backup failed',
        '',
        'Runbook: ops.backup (Back up <db> & files)',
        'Status: failed: web-1 failed',
        'Triggered by: user alice',
        'Nodes: web-1 failed, web-2 succeeded',
        'Duration: 3 min 5 s',
        'Failing step: dump on web-1, exit 2',
        'Execution: 4f1c',
        '',
        'Last lines of its log:',
        '  dumping...',
        '  error: disk full ``` ***',
        '',
        'Open in Baton: https://baton.example/executions/4f1c',
        '',
      ].join('\n'),
    );
    expect(emailOf(failed).subject).toBe('[Baton] ops.backup failed');
  });

  it('escapes Slack markup and keeps the log inside its code block', () => {
    const text = (slackBody(failed) as { text: string }).text;
    expect(text).toContain('*Runbook:* ops.backup (Back up &lt;db&gt; &amp; files)');
    expect(text).toContain("error: disk full ''' ***\n```");
    expect(text).toContain('<https://baton.example/executions/4f1c|Open in Baton>');
  });

  it('gives Teams an Adaptive Card with the facts, the log and a button to the execution', () => {
    const body = teamsBody(failed) as { type: string; attachments: { contentType: string; content: any }[] };
    expect(body.type).toBe('message');
    const card = body.attachments[0].content;
    expect(body.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.body[0]).toMatchObject({ text: 'ops.backup failed', color: 'Attention' });
    expect(card.body[1].facts).toContainEqual({ title: 'Triggered by', value: 'user alice' });
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in Baton', url: failed.link }]);
  });

  it('sends a webhook the facts as data with the text beside them', () => {
    expect(webhookBody(failed)).toMatchObject({
      id: failed.id,
      type: 'execution.failed',
      run: { status: 'failed' },
      text: plainText(failed),
    });
  });

  it('leaves out the link when the portal does not know its public address', () => {
    const { link: _link, ...withoutLink } = failed;
    expect(plainText(withoutLink)).not.toContain('Open in Baton');
    expect((teamsBody(withoutLink) as any).attachments[0].content.actions).toBeUndefined();
  });
});
