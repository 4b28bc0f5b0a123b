// Destination flag bits, their letters and the state argument (src/shared/dest-state.ts).
import { describe, expect, it } from 'vitest';
import {
  applyState,
  DS_DISABLED,
  DS_INACTIVE,
  DS_NODNS,
  DS_NOPING,
  DS_PROBING,
  DS_TRYING,
  isUsable,
  parseStateArg,
  stateLetters,
} from '../../../src/shared/dest-state.js';

describe('destination states', () => {
  it('have Kamailio bit values', () => {
    expect([DS_INACTIVE, DS_TRYING, DS_DISABLED, DS_PROBING, DS_NODNS, DS_NOPING]).toEqual([1, 2, 4, 8, 16, 32]);
  });

  it.each([
    [0, 'AX'],
    [DS_PROBING, 'AP'],
    [DS_INACTIVE | DS_PROBING, 'IP'],
    [DS_TRYING | DS_PROBING, 'TP'],
    [DS_DISABLED, 'DX'],
    [DS_NOPING, 'AN'],
    [DS_INACTIVE | DS_DISABLED | DS_TRYING, 'IX'], // precedence I > D > T
    [DS_DISABLED | DS_TRYING, 'DX'],
    [DS_PROBING | DS_NOPING, 'AP'],
    [DS_NODNS, 'AX'],
  ])('flags %i print as %s', (flags, letters) => {
    expect(stateLetters(flags)).toBe(letters);
  });

  it('usable means neither inactive nor disabled; trying is still selectable', () => {
    expect([0, DS_TRYING, DS_PROBING | DS_NOPING].map(isUsable)).toEqual([true, true, true]);
    expect([DS_INACTIVE, DS_DISABLED, DS_INACTIVE | DS_PROBING].map(isUsable)).toEqual([false, false, false]);
  });

  it.each([
    ['a', 0],
    ['A', 0],
    ['ap', DS_PROBING],
    ['i', DS_INACTIVE],
    ['IP', DS_INACTIVE | DS_PROBING],
    ['t', DS_TRYING],
    ['tp', DS_TRYING | DS_PROBING],
    ['d', DS_DISABLED],
  ])('parseStateArg(%j) = %i', (arg, bits) => {
    expect(parseStateArg(arg)).toBe(bits);
  });

  it.each(['', 'x', 'ax', 'pa', 'app', 'active'])('parseStateArg(%j) is refused', (arg) => {
    expect(parseStateArg(arg)).toBeUndefined();
  });

  it('applying a state resets the state bits and keeps the option bits', () => {
    expect(applyState(DS_INACTIVE | DS_PROBING | DS_NOPING, parseStateArg('a')!)).toBe(DS_NOPING);
    expect(applyState(DS_NODNS, parseStateArg('ip')!)).toBe(DS_NODNS | DS_INACTIVE | DS_PROBING);
  });
});
