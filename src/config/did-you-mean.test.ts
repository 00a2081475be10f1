import { describe, expect, it } from 'vitest';
import { closestMatch } from './did-you-mean.js';

describe('closestMatch', () => {
  it.each([
    { word: 'rnu', known: ['init', 'run', 'help'], match: 'run' },
    { word: 'loacl', known: ['local', 'docker', 'apptainer', 'slurm'], match: 'local' },
    { word: 'bakcends', known: ['backends', 'completion'], match: 'backends' },
    { word: 'timout', known: ['timeout', 'cpu'], match: 'timeout' },
    { word: 'colour', known: ['cpu', 'mem'], match: undefined },
    { word: 'nur', known: ['run'], match: undefined },
  ])('$word → $match', ({ word, known, match }) => {
    expect(closestMatch(word, known)).toBe(match);
  });
});
