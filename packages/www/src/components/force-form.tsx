/**
 * The force form, generated from a force scheduler's fields (reason, branch, revision and
 * its properties, as `GET /api/v2/forceschedulers` describes them). Values are checked by
 * the server: a refusal shows its message at the top and next to the fields it names.
 */
import { useState, type FormEvent } from 'react';
import { ApiError, rpc } from '../api/client.js';
import type { ForceField, ForceScheduler } from '../api/types.js';
import { fieldProblems } from '../lib/force-problems.js';
import { formatValue } from '../lib/format.js';

type Values = Record<string, string | boolean>;

function initialValues(fields: ForceField[]): Values {
  const values: Values = {};
  for (const f of fields) {
    if (f.type === 'bool') values[f.name] = f.default === true || f.default === 'true';
    else
      values[f.name] = f.default === null || f.default === undefined ? '' : formatValue(f.default);
  }
  return values;
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
  const [values, setValues] = useState<Values>(() => initialValues(scheduler.all_fields));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [problems, setProblems] = useState<Record<string, string>>({});

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setProblems({});
    const params: Record<string, unknown> = { builderid };
    for (const [name, value] of Object.entries(values)) params[name] = value;
    rpc<[number, Record<string, number>]>(
      `/forceschedulers/${encodeURIComponent(scheduler.name)}`,
      'force',
      params,
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
        setProblems(
          fieldProblems(
            message,
            scheduler.all_fields.map((f) => f.name),
          ),
        );
      },
    );
  };

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
      <div className="form-grid">
        {scheduler.all_fields.map((field) => {
          const id = `force-${scheduler.name}-${field.name}`;
          const problem = problems[field.name];
          const value = values[field.name];
          return (
            <div key={field.name} className={`field ${problem ? 'field-invalid' : ''}`}>
              <label htmlFor={id}>
                {field.label || field.name}
                {field.required && <span className="required"> *</span>}
              </label>
              {field.type === 'bool' ? (
                <input
                  id={id}
                  name={field.name}
                  type="checkbox"
                  checked={value === true}
                  onChange={(e) => setValues({ ...values, [field.name]: e.target.checked })}
                />
              ) : field.choices && field.choices.length > 0 ? (
                <select
                  id={id}
                  name={field.name}
                  value={String(value ?? '')}
                  onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
                >
                  {field.choices.map((c) => (
                    <option key={c}>{c}</option>
                  ))}
                </select>
              ) : (
                <input
                  id={id}
                  name={field.name}
                  type="text"
                  inputMode={field.type === 'int' ? 'numeric' : undefined}
                  value={String(value ?? '')}
                  aria-invalid={problem ? true : undefined}
                  aria-describedby={problem ? `${id}-problem` : undefined}
                  placeholder={field.type === 'int' ? 'a whole number' : undefined}
                  onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
                />
              )}
              {problem && (
                <span className="field-problem" id={`${id}-problem`}>
                  {problem}
                </span>
              )}
            </div>
          );
        })}
      </div>
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Starting…' : scheduler.button_name || 'Start build'}
        </button>
      </div>
    </form>
  );
}
