// Builds small kafka histories for the checker's tests: each call is one whole operation
// (invocation then completion) unless started and finished separately, with times in seconds
// advancing by a fixed step so realtime order is explicit.

import type { Json, Op } from '../../src/harness/types.js';

type PolledPairs = { [key: string]: Array<[number | null, Json]> };

export class KafkaHistory {
  readonly ops: Op[] = [];
  private timeNs = 0;
  private readonly stepNs: number;

  constructor(stepS = 0.01) {
    this.stepNs = Math.round(stepS * 1e9);
  }

  private push(op: Omit<Op, 'index' | 'time'>, timeNs?: number): Op {
    this.timeNs = timeNs ?? this.timeNs + this.stepNs;
    const full = { ...op, index: this.ops.length, time: this.timeNs } as Op;
    this.ops.push(full);
    return full;
  }

  /** Sets the clock (seconds) for the next op. */
  at(timeS: number): this {
    this.timeNs = Math.round(timeS * 1e9) - this.stepNs;
    return this;
  }

  invokeSend(process: number, key: string, msg: Json): Op {
    return this.push({ process, type: 'invoke', f: 'send', value: [['send', key, msg]] });
  }

  completeSend(process: number, key: string, msg: Json, offset: number | null, type: 'ok' | 'info' | 'fail' = 'ok'): Op {
    const value: Json = type === 'ok' ? [['send', key, [offset, msg]]] : [['send', key, msg]];
    return this.push({ process, type, f: 'send', value, ...(type === 'info' ? { error: 'net-timeout' } : {}) });
  }

  send(process: number, key: string, msg: Json, offset: number | null, type: 'ok' | 'info' | 'fail' = 'ok'): Op {
    this.invokeSend(process, key, msg);
    return this.completeSend(process, key, msg, offset, type);
  }

  invokePoll(process: number): Op {
    return this.push({ process, type: 'invoke', f: 'poll', value: [['poll']] });
  }

  completePoll(process: number, polled: PolledPairs): Op {
    return this.push({ process, type: 'ok', f: 'poll', value: [['poll', polled as unknown as Json]] });
  }

  poll(process: number, polled: PolledPairs): Op {
    this.invokePoll(process);
    return this.completePoll(process, polled);
  }

  assign(process: number, keys: string[], seekToBeginning = false): Op {
    const extra = seekToBeginning ? { 'seek-to-beginning?': true } : {};
    this.push({ process, type: 'invoke', f: 'assign', value: keys, ...extra });
    return this.push({ process, type: 'ok', f: 'assign', value: keys, ...extra });
  }

  crash(process: number): Op {
    this.push({ process, type: 'invoke', f: 'crash', value: null });
    return this.push({ process, type: 'info', f: 'crash', value: null });
  }
}
