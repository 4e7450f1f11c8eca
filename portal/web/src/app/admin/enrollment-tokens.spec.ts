import { installCommand, parseLabels, shellWord } from './enrollment-tokens';

describe('enrollment token labels', () => {
  it('reads key=value pairs separated by commas or spaces', () => {
    expect(parseLabels('role=web, env=prod  zone=eu-1')).toEqual({ labels: { role: 'web', env: 'prod', zone: 'eu-1' } });
    expect(parseLabels('  ')).toEqual({ labels: {} });
    expect(parseLabels('path=a=b')).toEqual({ labels: { path: 'a=b' } });
  });

  it('names the part it cannot read', () => {
    expect(parseLabels('role=web, prod')).toEqual({ error: '"prod": write each label as key=value' });
    expect(parseLabels('=web')).toEqual({ error: '"=web": write each label as key=value' });
    expect(parseLabels('role=')).toEqual({ error: '"role=": write each label as key=value' });
    expect(parseLabels('role=web role=db')).toEqual({ error: '"role" is given twice' });
  });
});

describe('install command', () => {
  it('downloads the install script from the portal and enrolls with the token, the node name and the labels', () => {
    expect(installCommand('https://portal.example:3000', 'bet_abc123', 'web-7', { role: 'web', env: 'prod' })).toBe(
      'curl -fsSL https://portal.example:3000/install/agent.sh | sudo sh -s -- --token bet_abc123 --name web-7 --labels role=web,env=prod',
    );
  });

  it("uses each node's host name when no name is given, and leaves out --labels when the token has none", () => {
    expect(installCommand('http://localhost:3000', 'bet_abc123', ' ', {})).toBe(
      'curl -fsSL http://localhost:3000/install/agent.sh | sudo sh -s -- --token bet_abc123 --name "$(hostname)"',
    );
  });

  it('quotes what the shell would otherwise read as its own', () => {
    expect(shellWord('web 7')).toBe("'web 7'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
    expect(shellWord('$(reboot)')).toBe("'$(reboot)'");
    expect(installCommand('http://p', 't', 'web;7', { note: 'a b' })).toBe(
      "curl -fsSL http://p/install/agent.sh | sudo sh -s -- --token t --name 'web;7' --labels 'note=a b'",
    );
  });
});
