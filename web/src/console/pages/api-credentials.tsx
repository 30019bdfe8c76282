import { useState } from "preact/hooks";
import { del, get, post, query } from "../api.js";
import { BusyButton, ConfirmDialog, CopyField, ErrorText, Loading, Pager } from "../components.js";
import { formatTotal } from "../format.js";
import { useAction, useResource } from "../hooks.js";
import { PageFrame } from "../page-frame.js";
import type { ApiCredential, Page } from "../types.js";

const pageSize = 20;

export function ApiCredentials() {
  const [offset, setOffset] = useState(0);
  const list = useResource(() => get<Page<ApiCredential>>(`/v2/me/api/credentials${query({ limit: pageSize, offset })}`), [offset]);
  const [name, setName] = useState("");
  const [created, setCreated] = useState<ApiCredential>();
  const create = useAction(async () => {
    setCreated(await post<ApiCredential>("/v2/me/api/credentials", { name: name.trim() }));
    setName("");
    list.reload();
  });
  const [deleting, setDeleting] = useState<ApiCredential>();
  const remove = useAction(async (credential: ApiCredential) => {
    await del(`/v2/me/api/credentials/${credential.id}`);
    setDeleting(undefined);
    list.reload();
  });

  return (
    <PageFrame title="API credentials" intro="Programs authenticate with an API credential: HTTP Basic with its username and password. Disabling or deleting one stops it at once.">
      <section class="card" aria-labelledby="create-title">
        <h2 id="create-title">Create a credential</h2>
        <form
          class="row"
          onSubmit={(event) => {
            event.preventDefault();
            void create.run();
          }}
        >
          <div class="field">
            <label for="credential-name">Name</label>
            <input
              id="credential-name"
              type="text"
              maxLength={255}
              required
              placeholder="e.g. ci-pipeline"
              value={name}
              aria-invalid={create.error ? true : undefined}
              aria-describedby={create.error ? "create-error" : undefined}
              onInput={(event) => setName(event.currentTarget.value)}
            />
          </div>
          <BusyButton type="submit" busy={create.busy} busyLabel="Creating…">
            Create credential
          </BusyButton>
        </form>
        <ErrorText id="create-error" error={create.error} />
      </section>

      {created && <NewSecret credential={created} onDone={() => setCreated(undefined)} />}

      <section class="card" aria-labelledby="list-title">
        <h2 id="list-title">Credentials{list.data ? ` (${formatTotal(list.data.totalCount)})` : ""}</h2>
        {list.loading && !list.data && <Loading label="Loading the credentials…" />}
        <ErrorText error={list.error} />
        {list.data && list.data.items.length === 0 && <p class="muted">No credentials yet.</p>}
        {list.data && list.data.items.length > 0 && (
          <ul class="items" aria-label="API credentials">
            {list.data.items.map((credential) => (
              <CredentialItem key={credential.id} credential={credential} onChanged={list.reload} onDelete={() => (remove.setError(undefined), setDeleting(credential))} />
            ))}
          </ul>
        )}
        {list.data && <Pager label="Credential pages" offset={offset} limit={pageSize} total={list.data.totalCount} shown={list.data.items.length} onOffset={setOffset} />}
      </section>

      {deleting && (
        <ConfirmDialog
          title={`Delete the credential “${deleting.name}”?`}
          confirmLabel="Delete credential"
          busy={remove.busy}
          error={remove.error}
          onConfirm={() => void remove.run(deleting)}
          onCancel={() => setDeleting(undefined)}
        >
          <p>
            Programs using <code>{deleting.username}</code> are refused from now on. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </PageFrame>
  );
}

/** The one time the password is in clear: the server keeps only its digest. */
function NewSecret({ credential, onDone }: { credential: ApiCredential; onDone: () => void }) {
  return (
    <section class="card warning" aria-labelledby="secret-title">
      <h2 id="secret-title">New credential “{credential.name}”</h2>
      <p>
        <strong>Copy the password now: it is shown only this once.</strong> Switchboard keeps only a digest of it, so it
        cannot be shown again; if it is lost, create another credential and delete this one.
      </p>
      <CopyField id="new-username" label="Username" value={credential.username} copyLabel="Copy username" />
      <CopyField id="new-password" label="Password" value={credential.password} copyLabel="Copy password" />
      <pre>
        <code>{`curl -u ${credential.username}:${credential.password} ${location.origin}/v2/me/account`}</code>
      </pre>
      <button type="button" class="secondary" onClick={onDone}>
        I have saved the password
      </button>
    </section>
  );
}

function CredentialItem({ credential, onChanged, onDelete }: { credential: ApiCredential; onChanged: () => void; onDelete: () => void }) {
  const toggle = useAction(async () => {
    await post(`/v2/me/api/credentials/${credential.id}/${credential.enabled ? "disable" : "enable"}`);
    onChanged();
  });
  const errorId = `credential-${credential.id}-error`;
  return (
    <li aria-labelledby={`credential-${credential.id}`}>
      <div class="item-head">
        <h3 id={`credential-${credential.id}`}>{credential.name}</h3>
        <span class={`pill ${credential.enabled ? "on" : "off"}`}>{credential.enabled ? "Enabled" : "Disabled"}</span>
      </div>
      <dl class="facts">
        <dt>Username</dt>
        <dd class="mono">{credential.username}</dd>
        <dt>Password</dt>
        <dd class="mono">{credential.password}</dd>
      </dl>
      <div class="actions">
        <BusyButton
          class="secondary"
          busy={toggle.busy}
          busyLabel={credential.enabled ? "Disabling…" : "Enabling…"}
          aria-describedby={toggle.error ? errorId : undefined}
          onClick={() => void toggle.run()}
        >
          {credential.enabled ? "Disable" : "Enable"}
        </BusyButton>
        <button type="button" class="danger" onClick={onDelete}>
          Delete
        </button>
      </div>
      <ErrorText id={errorId} error={toggle.error} />
    </li>
  );
}
