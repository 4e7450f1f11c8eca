import {
  alertmanagerAlerts,
  alertmanagerPayloadProblem,
  fingerprintOf,
  genericAlerts,
  genericPayloadProblem,
  parseAlertsPath,
} from './alert-payload';

const alertmanagerPayload = {
  version: '4',
  status: 'firing',
  groupKey: '{}:{alertname="ServiceDown"}',
  receiver: 'baton',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'ServiceDown', service: 'nginx', instance: 'web-1:9100' },
      annotations: { summary: 'nginx down' },
      startsAt: '2025-11-24T10:00:00.123456789Z',
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: 'f1e2d3c4b5a69788',
      generatorURL: 'http://prometheus/graph',
    },
  ],
};

describe('Alertmanager payloads', () => {
  it('reads status, labels, annotations, startsAt and fingerprint of each alert', () => {
    expect(alertmanagerPayloadProblem(alertmanagerPayload)).toBeNull();
    expect(alertmanagerAlerts(alertmanagerPayload)).toEqual([
      {
        status: 'firing',
        labels: { alertname: 'ServiceDown', service: 'nginx', instance: 'web-1:9100' },
        annotations: { summary: 'nginx down' },
        startsAt: '2025-11-24T10:00:00.123456789Z',
        fingerprint: 'f1e2d3c4b5a69788',
      },
    ]);
  });

  it('says what is wrong with something else', () => {
    expect(alertmanagerPayloadProblem({ hello: 'world' })).toContain('alerts');
    expect(alertmanagerPayloadProblem({ alerts: [{ status: 'burning', labels: {} }] })).toContain('alerts.0.status');
  });
});

describe('generic payloads', () => {
  it('finds the alerts at $.alerts, data.items or an indexed path', () => {
    expect(parseAlertsPath('$.alerts')).toEqual(['alerts']);
    expect(parseAlertsPath('data.items')).toEqual(['data', 'items']);
    expect(parseAlertsPath('$.results[0].alerts')).toEqual(['results', 0, 'alerts']);
    expect(parseAlertsPath('$')).toEqual([]);
    expect(() => parseAlertsPath('data..items')).toThrow('not a path');
    expect(() => parseAlertsPath('items[x]')).toThrow('not a path');
  });

  it('takes labels from the item, or its own text fields when it has none, and fingerprints them', () => {
    const payload = {
      data: {
        items: [
          { labels: { alertname: 'DiskFull', host: 'db-1' }, status: 'resolved', startsAt: 't0' },
          { alertname: 'DiskFull', host: 'db-2', value: 97, nested: { ignored: true } },
        ],
      },
    };
    const alerts = genericAlerts(payload, 'data.items');
    expect(alerts[0]).toEqual({
      status: 'resolved',
      labels: { alertname: 'DiskFull', host: 'db-1' },
      annotations: {},
      startsAt: 't0',
      fingerprint: fingerprintOf({ alertname: 'DiskFull', host: 'db-1' }),
    });
    expect(alerts[1]).toMatchObject({ status: 'firing', labels: { alertname: 'DiskFull', host: 'db-2', value: '97' }, startsAt: '' });
    expect(fingerprintOf({ a: '1', b: '2' })).toBe(fingerprintOf({ b: '2', a: '1' }));
    expect(fingerprintOf({ a: '1', b: '2' })).not.toBe(fingerprintOf({ a: '12' }));
  });

  it('refuses a body without a list at the path, and never walks the prototype', () => {
    expect(genericPayloadProblem({ alerts: {} }, '$.alerts')).toBe('no list of alerts at $.alerts in the body');
    expect(genericPayloadProblem({}, 'constructor.name')).not.toBeNull();
    expect(genericPayloadProblem([{ a: 'b' }], '$')).toBeNull();
  });
});
