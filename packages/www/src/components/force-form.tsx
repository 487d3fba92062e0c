/**
 * The force form, generated from a force scheduler's `all_fields` (Buildbot's spec, as
 * `GET /api/v2/forceschedulers` gives it): groups (`nested`: your name and the reason, one
 * per codebase with branch / revision / repository / project, property groups) laid out in
 * their columns, and leaves by type: `text`, `textarea`, `int`, `bool`, `list` (one or
 * several choices; free text when not strict), `fixed` (shown, not editable). Values are
 * posted by each leaf's `fullName` and checked by the server: a refusal shows its message at
 * the top and, for each `fullName: problem`, next to that field.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, rpc } from '../api/client.js';
import type { ForceField, ForceScheduler } from '../api/types.js';
import { fieldProblems } from '../lib/force-problems.js';
import { formatValue } from '../lib/format.js';

type Value = string | boolean | string[];
type Values = Record<string, Value>;

/** The fields that take a value: leaves of the groups, without hidden and fixed ones. */
export function leafFields(fields: readonly ForceField[]): ForceField[] {
  return fields.flatMap((f) => {
    if (f.type === 'nested') return leafFields(f.fields ?? []);
    if (f.hide === true || f.type === 'fixed') return [];
    return [f];
  });
}

function keyOf(field: ForceField): string {
  return field.fullName || field.name;
}

function initialValue(field: ForceField): Value {
  const d = field.default;
  if (field.type === 'bool') return d === true || d === 'true';
  if (field.type === 'list' && field.multiple)
    return Array.isArray(d) ? d.map((v) => formatValue(v)) : [];
  return d === null || d === undefined ? '' : formatValue(d);
}

export interface ForceResultIds {
  buildsetid: number;
  buildrequestids: Record<string, number>;
}

export function ForceForm({
  scheduler,
  builderid,
  onForced,
}: {
  scheduler: ForceScheduler;
  builderid: number;
  onForced: (result: ForceResultIds) => void;
}) {
  const leaves = leafFields(scheduler.all_fields);
  const [values, setValues] = useState<Values>(() =>
    Object.fromEntries(leaves.map((f) => [keyOf(f), initialValue(f)])),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const set = (key: string, value: Value) => setValues((v) => ({ ...v, [key]: value }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setProblems({});
    rpc<[number, Record<string, number>]>(
      `/forceschedulers/${encodeURIComponent(scheduler.name)}`,
      'force',
      { builderid, ...values },
    ).then(
      ([buildsetid, buildrequestids]) => {
        setBusy(false);
        onForced({ buildsetid, buildrequestids });
      },
      (e: unknown) => {
        setBusy(false);
        const message = e instanceof Error ? e.message : String(e);
        setError(
          e instanceof ApiError && e.unreachable ? message : `The master refused: ${message}`,
        );
        setProblems(fieldProblems(message, leaves.map(keyOf)));
      },
    );
  };

  const renderLeaf = (field: ForceField): ReactNode => {
    const key = keyOf(field);
    const id = `force-${scheduler.name}-${key}`;
    const problem = problems[key];
    const value = values[key];
    const text = (field.label || field.name || key).replace(/:\s*$/, '');
    const label = text.charAt(0).toUpperCase() + text.slice(1);
    const described = problem ? { 'aria-invalid': true, 'aria-describedby': `${id}-problem` } : {};
    let input: ReactNode;
    if (field.type === 'fixed') {
      input = (
        <span className="fixed-value mono" id={id}>
          {formatValue(field.default)}
        </span>
      );
    } else if (field.type === 'bool') {
      input = (
        <input
          id={id}
          name={key}
          type="checkbox"
          checked={value === true}
          onChange={(e) => set(key, e.target.checked)}
        />
      );
    } else if (field.type === 'list' && field.multiple) {
      input = (
        <select
          id={id}
          name={key}
          multiple
          value={Array.isArray(value) ? value : []}
          onChange={(e) =>
            set(
              key,
              [...e.target.selectedOptions].map((o) => o.value),
            )
          }
          {...described}
        >
          {(field.choices ?? []).map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      );
    } else if (field.type === 'list' && field.strict !== false) {
      input = (
        <select
          id={id}
          name={key}
          value={String(value ?? '')}
          onChange={(e) => set(key, e.target.value)}
          {...described}
        >
          {(field.choices ?? []).map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      );
    } else if (field.type === 'textarea') {
      input = (
        <textarea
          id={id}
          name={key}
          rows={field.rows ?? 3}
          value={String(value ?? '')}
          onChange={(e) => set(key, e.target.value)}
          {...described}
        />
      );
    } else {
      const choices = field.type === 'list' ? (field.choices ?? []) : [];
      input = (
        <>
          <input
            id={id}
            name={key}
            type="text"
            inputMode={field.type === 'int' ? 'numeric' : undefined}
            placeholder={field.type === 'int' ? 'a whole number' : undefined}
            list={choices.length > 0 ? `${id}-choices` : undefined}
            maxLength={field.maxsize ?? undefined}
            value={String(value ?? '')}
            onChange={(e) => set(key, e.target.value)}
            {...described}
          />
          {choices.length > 0 && (
            <datalist id={`${id}-choices`}>
              {choices.map((c) => (
                <option key={c} value={c} />
              ))}
            </datalist>
          )}
        </>
      );
    }
    return (
      <div
        key={key}
        className={`field ${problem ? 'field-invalid' : ''} ${field.type === 'bool' ? 'field-check' : ''}`}
      >
        <label htmlFor={id}>
          {label}
          {field.required && <span className="required"> *</span>}
        </label>
        {input}
        {problem && (
          <span className="field-problem" id={`${id}-problem`}>
            {problem}
          </span>
        )}
      </div>
    );
  };

  const renderFields = (fields: readonly ForceField[], columns = 1): ReactNode => (
    <div
      className="form-grid"
      style={
        columns > 1 ? { gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` } : undefined
      }
    >
      {fields
        .filter((f) => f.hide !== true)
        .map((f) =>
          f.type === 'nested'
            ? (f.fields ?? []).some((c) => c.hide !== true) && (
                <fieldset
                  key={keyOf(f) || f.label || 'group'}
                  className={f.label ? 'group' : 'group group-plain'}
                >
                  {f.label && <legend>{f.label.replace(/:\s*$/, '')}</legend>}
                  {renderFields(f.fields ?? [], f.columns ?? 1)}
                </fieldset>
              )
            : renderLeaf(f),
        )}
    </div>
  );

  return (
    <form
      className="force-form"
      onSubmit={submit}
      aria-label={`force ${scheduler.name}`}
      noValidate
    >
      {error && (
        <div className="form-error" role="alert" data-testid="force-error">
          {error}
        </div>
      )}
      {renderFields(scheduler.all_fields)}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Starting…' : scheduler.button_name || 'Start build'}
        </button>
      </div>
    </form>
  );
}
