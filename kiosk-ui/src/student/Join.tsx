import { useEffect, useRef, useState } from 'preact/hooks';

export function Join(props: { initialCode: string; error?: string; onJoin: (code: string) => Promise<void> }) {
  const [code, setCode] = useState(props.initialCode);
  const [busy, setBusy] = useState(false);
  const [localError, setLocalError] = useState<string | undefined>(undefined);
  const input = useRef<HTMLInputElement>(null);
  const error = localError ?? props.error;

  useEffect(() => { document.title = 'Join your group — Dovelab'; input.current?.focus(); }, []);
  useEffect(() => { setLocalError(undefined); setBusy(false); }, [props.error]);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    const c = code.replace(/[\s-]+/g, '').toUpperCase();
    if (!c) { setLocalError('Type the code from your group’s card or the board.'); input.current?.focus(); return; }
    setBusy(true);
    setLocalError(undefined);
    await props.onJoin(c);
    setBusy(false);
    input.current?.focus();
  };

  return (
    <main id="main" class="join">
      <div class="join-card">
        <p class="brand" aria-hidden="true">dovelab</p>
        <h1>Join your group</h1>
        <p class="lead">Enter the code your teacher gave your group.</p>
        <form onSubmit={submit} noValidate>
          <label for="code">Group code</label>
          <input
            ref={input}
            id="code"
            name="code"
            class="code-input"
            value={code}
            onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value.toUpperCase())}
            autocomplete="off"
            autocapitalize="characters"
            autocorrect="off"
            spellcheck={false}
            inputmode="text"
            enterkeyhint="go"
            maxLength={16}
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={error ? 'code-help code-error' : 'code-help'}
          />
          <p id="code-help" class="help">Letters only, e.g. <span class="mono">KXBRTM</span>. Capitals are added for you.</p>
          {error && <p id="code-error" class="error" role="alert">{error}</p>}
          <button type="submit" class="primary big" disabled={busy}>{busy ? 'Joining…' : 'Join'}</button>
        </form>
      </div>
    </main>
  );
}
