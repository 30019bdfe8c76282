import { useState } from "preact/hooks";
import { post } from "../api.js";
import { BusyButton, ErrorText } from "../components.js";
import { useAction } from "../hooks.js";
import type { Session } from "../types.js";
import logo from "../../../favicon.svg";

/** The account's login (email and password); API credentials cannot sign in. */
export function SignIn({ notice, onSignedIn }: { notice?: string; onSignedIn: (session: Session) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const signIn = useAction(async () => onSignedIn(await post<Session>("/console/api/session", { email, password })));

  return (
    <main class="sign-in" id="main">
      <form
        class="card"
        aria-labelledby="sign-in-title"
        // The server's words say what is wrong, the same for every mistake.
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void signIn.run();
        }}
      >
        <p class="brand dark">
          <img src={logo} alt="" /> Switchboard
        </p>
        <h1 id="sign-in-title">Sign in to the console</h1>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <div class="field">
          <label for="email">Email</label>
          <input id="email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            aria-describedby={signIn.error ? "sign-in-error" : undefined}
            aria-invalid={signIn.error ? true : undefined}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </div>
        <BusyButton type="submit" busy={signIn.busy} busyLabel="Signing in…">
          Sign in
        </BusyButton>
        <ErrorText id="sign-in-error" error={signIn.error} />
        <p class="muted">
          Use the account's own email and password; API credentials are for programs. New here? The{" "}
          <a href="/">home page</a> says where the demo login comes from.
        </p>
      </form>
    </main>
  );
}
