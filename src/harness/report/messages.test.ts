import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../types.js';
import { exchange } from '../../../test/support/report-fixtures.js';
import { carries, mainDiagramHtml, messageDiagramSvg, plannedWindows, windowCollector, windowHtml } from './messages.js';

describe('message diagrams', () => {
  it('leave out init and setup traffic and say how much there was', () => {
    const journal: JournalEvent[] = [
      ...exchange('c1', 'n0', 'init', 0),
      ...exchange('n0', 'c1', 'init_ok', 0.1),
      ...exchange('c1', 'n0', 'topology', 0.2),
      ...exchange('n0', 'c1', 'topology_ok', 0.3),
      ...exchange('c2', 'n0', 'broadcast', 1),
      ...exchange('n0', 'n1', 'gossip', 2),
    ];
    const html = mainDiagramHtml(journal, 6);
    expect(html).toContain('2 messages after 4 init and setup messages');
    expect(html).not.toContain('>init<');
    expect(html).toContain('>gossip<');
  });

  it('put clients in one lane and fit 30 nodes in the page width', () => {
    const messages = Array.from({ length: 30 }, (_, k) => ({ id: k, src: `c${k}`, dest: `n${k}`, type: 'read', bodyJson: '{}', sendNs: k, recvNs: k + 1 }));
    const svg = messageDiagramSvg(messages, 'x', 'title');
    expect(svg.match(/class="node">clients</g)).toHaveLength(1);
    expect(Number(/width="(\d+)"/.exec(svg)?.[1])).toBeLessThanOrEqual(1400);
  });

  it('window the journal around a fact: its nodes\' messages in time, with a count of what they passed on', () => {
    const planned = plannedWindows([{ text: 'Lost 7: broadcast via n1', atNs: 1e9, nodes: ['n1'] }, { text: 'no time' }]);
    expect(planned).toHaveLength(1);
    const collector = windowCollector(planned);
    const journal = [
      ...exchange('c1', 'n1', 'broadcast', 1000),
      ...exchange('n1', 'n2', 'gossip', 1001, { dropped: true }),
      ...exchange('n0', 'n2', 'gossip', 1002),
      ...exchange('c1', 'n1', 'read', 5000),
    ];
    for (const event of journal) collector.add(event);
    const [window] = collector.windows();
    expect(window?.messages.map((m) => m.type)).toEqual(['broadcast', 'gossip']);
    expect(window?.messages[1]?.recvNs).toBeUndefined();
    const html = windowHtml(window!);
    expect(html).toContain('id="messages-0"');
    expect(html).toContain('n1 sent 1 message to other nodes or services in this window.');
  });

  it('mark the messages that carry the fact\'s value, in any data field but the envelope', () => {
    expect(carries({ type: 'broadcast', message: 7, msg_id: 1 }, 7)).toBe(true);
    expect(carries({ type: 'gossip', messages: [3, 7] }, 7)).toBe(true);
    expect(carries({ type: 'read_ok', msg_id: 7, in_reply_to: 7 }, 7)).toBe(false);
  });
});
