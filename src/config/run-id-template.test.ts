import { describe, expect, it } from 'vitest';
import { parseRunIdTemplate, type RunIdTemplate, renderRunId } from './run-id-template.js';

/** The parts of a template that parses, or the test fails with the message it gave. */
function parsed(text: string): RunIdTemplate {
  const result = parseRunIdTemplate(text);
  if (!result.ok) throw new Error(`${JSON.stringify(text)} did not parse: ${result.message}`);
  return result.template;
}

/** Why a template does not parse, or the test fails with what it parsed to. */
function refusal(text: string): string {
  const result = parseRunIdTemplate(text);
  if (result.ok) throw new Error(`${JSON.stringify(text)} parsed: ${JSON.stringify(result)}`);
  return result.message;
}

const field = (...path: string[]) => ({ field: path.join('.'), path });

const NOT_A_FIELD = /is not a field a run id can hold/;
const NOT_CLOSED = /unclosed \{\{, a stray \}\} or a \{% %\} or \{# #\} block/;

describe('parseRunIdTemplate', () => {
  it.each<[string, string, RunIdTemplate]>([
    ['plain text', 'wave-study', ['wave-study']],
    ['an empty template', '', []],
    ['one field alone', '{{ member.depth_m }}', [field('member', 'depth_m')]],
    [
      'text around a field',
      'wave-d{{ member.depth_m }}-x',
      ['wave-d', field('member', 'depth_m'), '-x'],
    ],
    [
      'several fields, side by side and apart',
      'w{{ member.depth_m }}{{ member.replica }}-{{ config.name }}',
      ['w', field('member', 'depth_m'), field('member', 'replica'), '-', field('config', 'name')],
    ],
    ['no space inside the braces', '{{member.index}}', [field('member', 'index')]],
    [
      'tabs and line breaks inside the braces',
      '{{\t member.index \n}}',
      [field('member', 'index')],
    ],
    [
      'a nested config path',
      '{{ config.pulse.amplitude_m }}',
      [field('config', 'pulse', 'amplitude_m')],
    ],
    ['a list index in a path', '{{ config.levels.0 }}', [field('config', 'levels', '0')]],
    ['a dash in a key after the root', '{{ config.grid-size }}', [field('config', 'grid-size')]],
    ['single braces, which are text', 'a{b}c', ['a{b}c']],
    [
      'a brace left over after a field, which is text',
      '{{ member.index }}}',
      [field('member', 'index'), '}'],
    ],
  ])('reads %s', (_, text, template) => {
    expect(parsed(text)).toEqual(template);
  });

  it.each([
    ['a root other than member or config', '{{ model.run_id }}'],
    ['an environment root', '{{ env.HOME }}'],
    ['a root in capitals', '{{ Member.index }}'],
    ['a field with no dot', '{{ member }}'],
    ['a root with no key', '{{ config. }}'],
    ['an empty field', '{{}}'],
    ['a field of spaces', '{{   }}'],
    ['a filter', '{{ member.depth_m | round }}'],
    ['a filter without spaces', '{{member.name|upper}}'],
    ['arithmetic', '{{ member.index + 1 }}'],
    ['a call', '{{ member.name.upper() }}'],
    ['a subscript', '{{ member.parameters["config.depth_m"] }}'],
    ['a string literal', '{{ "x" }}'],
    ['a root that is a number', '{{ 0.x }}'],
    ['two fields in one pair of braces', '{{ member.a member.b }}'],
    ['a control character inside the braces', '{{ member.\u0000depth }}'],
    ['an escape sequence inside the braces', '{{ member.x\u001b[2J }}'],
    ['a field after good ones', 'a{{ member.index }}b{{ member.x | e }}'],
  ])('refuses %s as a field', (_, text) => {
    expect(refusal(text)).toMatch(NOT_A_FIELD);
  });

  it.each([
    ['a {% %} block', 'run-{% if member.index %}a{% endif %}'],
    ['a {# #} comment', 'run{# note #}'],
    ['an opening {% alone', 'run-{%'],
    ['a closing #} alone', 'run-#}'],
    ['an unclosed {{', 'run-{{ member.index'],
    ['an unclosed {{ after a field', '{{ member.index }}-{{ member.replica'],
    ['a stray }}', 'run-}}'],
    ['a stray }} after a field', '{{ member.index }}-}}'],
    ['a stray }} before a field', 'run}}-{{ member.index }}'],
    ['a stray }} between fields', '{{ member.index }}}}{{ member.replica }}'],
    ['a {% %} block beside a good field', '{{ member.index }}{% raw %}'],
  ])('refuses %s', (_, text) => {
    expect(refusal(text)).toMatch(NOT_CLOSED);
  });

  it('names the field it refuses in its message', () => {
    expect(refusal('a-{{ member.depth_m | round }}')).toMatch(
      /^"\{\{ member\.depth_m \| round \}\}" is not a field a run id can hold: write \{\{ member\.NAME \}\}/,
    );
  });

  it('shows control characters in a refused field escaped, so none reaches the terminal', () => {
    const message = refusal('{{ member.x\u001b[2J\u0007 }}');
    expect(message).toContain('\\u001b[2J\\u0007');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for.
    expect(message).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it('keeps control characters in the text as they are, for the run id check to refuse', () => {
    expect(parsed('a\tb\u0000{{ member.index }}\n')).toEqual([
      'a\tb\u0000',
      field('member', 'index'),
      '\n',
    ]);
  });

  it('cuts a long refused field short in its message', () => {
    const message = refusal(`{{ ${'x'.repeat(100_000)} }}`);
    expect(message).toContain('(100006 characters)');
    expect(message.length).toBeLessThan(400);
  });

  describe('a huge template', () => {
    const within = (ms: number, work: () => void) => {
      const started = performance.now();
      work();
      expect(performance.now() - started).toBeLessThan(ms);
    };

    // Each of these took seconds when every {{ was tried again against the rest of the text.
    it.each([
      ['opening braces alone', '{'.repeat(200_000)],
      ['unclosed fields', '{{ member.x '.repeat(20_000)],
      ['closing braces alone', '}'.repeat(200_000)],
      ['text with an unclosed {{ at the start', `{{${'a'.repeat(200_000)}`],
    ])('of %s is refused at once', (_, text) => {
      within(500, () => expect(refusal(text)).toMatch(NOT_CLOSED));
    });

    it('of many fields is read and rendered at once', () => {
      const text = 'r{{ member.index }}-'.repeat(10_000);
      within(500, () => {
        const template = parsed(text);
        expect(template).toHaveLength(20_001);
        const rendered = renderRunId(template, { member: { index: 7 } });
        expect(rendered).toEqual({ ok: true, runId: 'r7-'.repeat(10_000) });
      });
    });

    it('of one long field is refused at once', () => {
      within(500, () =>
        expect(refusal(`{{ member.${'a'.repeat(200_000)}! }}`)).toMatch(NOT_A_FIELD),
      );
    });
  });
});

describe('renderRunId', () => {
  const scope = {
    member: {
      index: 3,
      replica: 0,
      depth_m: 12.5,
      coupled: false,
      label: 'deep',
      empty: '',
      levels: [1, 2],
      pulse: { amplitude_m: 0.25 },
      nothing: null,
      unset: undefined,
    },
    config: {
      name: 'wave',
      levels: [10, 20],
      grid: { nx: 40, ny: 0 },
      count: 0,
      big: 1e21,
      negative: -2,
    },
  };
  const render = (text: string) => renderRunId(parsed(text), scope);

  it.each([
    ['plain text', 'wave', 'wave'],
    ['a whole number', 'i{{ member.index }}', 'i3'],
    ['zero', 'r{{ member.replica }}-{{ config.count }}', 'r0-0'],
    ['a fraction', 'd{{ member.depth_m }}', 'd12.5'],
    ['a negative number', '{{ config.negative }}', '-2'],
    ['a number as JavaScript writes it', '{{ config.big }}', '1e+21'],
    ['false', 'c-{{ member.coupled }}', 'c-false'],
    ['a string', '{{ config.name }}-{{ member.label }}', 'wave-deep'],
    ['an empty string', 'x{{ member.empty }}y', 'xy'],
    ['a nested value', 'a{{ member.pulse.amplitude_m }}', 'a0.25'],
    ['a nested config value', '{{ config.grid.nx }}x{{ config.grid.ny }}', '40x0'],
    ['a list item by index', 'l{{ config.levels.1 }}', 'l20'],
    [
      'several fields',
      '{{ config.name }}-d{{ member.depth_m }}-{{ member.index }}',
      'wave-d12.5-3',
    ],
  ])('renders %s', (_, text, runId) => {
    expect(render(text)).toEqual({ ok: true, runId });
  });

  it.each([
    [
      'a list',
      '{{ member.levels }}',
      '{{ member.levels }} is a list, not a value a run id can hold',
    ],
    [
      'a mapping',
      '{{ config.grid }}',
      '{{ config.grid }} is a mapping, not a value a run id can hold',
    ],
    ['null', '{{ member.nothing }}', '{{ member.nothing }} is null, not a value a run id can hold'],
    ['undefined', '{{ member.unset }}', '{{ member.unset }} names nothing'],
    ['a key that is not there', '{{ member.height }}', '{{ member.height }} names nothing'],
    ['a path through a number', '{{ member.index.x }}', '{{ member.index.x }} names nothing'],
    [
      'a path through a string',
      '{{ config.name.length }}',
      '{{ config.name.length }} names nothing',
    ],
    ['a path through null', '{{ member.nothing.x }}', '{{ member.nothing.x }} names nothing'],
    ['an index past the end', '{{ config.levels.2 }}', '{{ config.levels.2 }} names nothing'],
    ["a list's length", '{{ config.levels.length }}', '{{ config.levels.length }} names nothing'],
  ])('refuses %s', (_, text, message) => {
    expect(render(text)).toEqual({ ok: false, message });
  });

  it('refuses a field whose root the scope lacks', () => {
    expect(renderRunId(parsed('{{ config.name }}'), { member: scope.member })).toEqual({
      ok: false,
      message: '{{ config.name }} names nothing',
    });
  });

  it.each([
    ['constructor', '{{ member.constructor }}'],
    ['__proto__', '{{ member.__proto__ }}'],
    ['toString', '{{ member.toString }}'],
    ['hasOwnProperty', '{{ config.hasOwnProperty }}'],
    ['a prototype reached by a path', '{{ member.constructor.name }}'],
    ["a list's prototype", '{{ config.levels.constructor }}'],
    ['a root named like a prototype key', '{{ config.__proto__.toString }}'],
  ])('never reaches Object.prototype by %s', (_, text) => {
    const field = text.slice(3, -3);
    expect(render(text)).toEqual({ ok: false, message: `{{ ${field} }} names nothing` });
  });

  it('renders keys named like prototype keys when the data holds them', () => {
    const own = JSON.parse('{"__proto__": "p", "constructor": 1, "toString": true}') as Record<
      string,
      unknown
    >;
    expect(
      renderRunId(parsed('{{ member.__proto__ }}-{{ member.constructor }}-{{ member.toString }}'), {
        member: own,
      }),
    ).toEqual({ ok: true, runId: 'p-1-true' });
  });

  it('stops at the first field that gives no value', () => {
    expect(render('{{ member.levels }}-{{ member.height }}')).toEqual({
      ok: false,
      message: '{{ member.levels }} is a list, not a value a run id can hold',
    });
  });

  it('puts a value in as it is, control characters included, for the run id check to refuse', () => {
    expect(renderRunId(parsed('a-{{ member.name }}'), { member: { name: 'x\ny\u001b' } })).toEqual({
      ok: true,
      runId: 'a-x\ny\u001b',
    });
  });
});
