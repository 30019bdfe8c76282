import { LocationProvider, Route, Router, useLocation } from "preact-iso";
import { useEffect, useRef, useState } from "preact/hooks";
import { del, get, setSession } from "./api.js";
import { BusyButton, ErrorText, Loading } from "./components.js";
import { useAction } from "./hooks.js";
import { PageFrame } from "./page-frame.js";
import { pages } from "./pages.js";
import { SignIn } from "./pages/sign-in.js";
import { SessionContext } from "./session.js";
import type { Session } from "./types.js";
import logo from "../../favicon.svg";

export function App() {
  // undefined while the server is asked whether this browser is signed in.
  const [session, setSessionState] = useState<Session | null | undefined>(undefined);
  const [notice, setNotice] = useState<string>();

  const ended = (why: string) => {
    setSession(undefined, () => {});
    setSessionState(null);
    setNotice(why);
  };
  const start = (signedIn: Session) => {
    setSession(signedIn.csrfToken, () => ended("Your session has ended: sign in again."));
    setNotice(undefined);
    setSessionState(signedIn);
  };

  useEffect(() => {
    get<Session>("/console/api/session").then(start, () => setSessionState(null));
  }, []);

  if (session === undefined) return <Loading label="Loading the console…" />;
  if (session === null) return <SignIn notice={notice} onSignedIn={start} />;
  return (
    <SessionContext.Provider value={session}>
      <LocationProvider scope="/console">
        <Shell session={session} onSignedOut={() => ended("You are signed out.")} />
      </LocationProvider>
    </SessionContext.Provider>
  );
}

function Shell({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const { path } = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const signOut = useAction(async () => {
    await del("/console/api/session");
    onSignedOut();
  });

  // After a navigation, reading starts at the new page, as after a page load.
  useEffect(() => {
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [path]);

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to the content
      </a>
      <header class="topbar">
        <a class="brand" href="/console">
          <img src={logo} alt="" /> Switchboard <span class="brand-sub">console</span>
        </a>
        <span class="spacer" />
        <span class="who">{session.account.email}</span>
        <BusyButton busy={signOut.busy} busyLabel="Signing out…" onClick={() => void signOut.run()}>
          Sign out
        </BusyButton>
      </header>
      <ErrorText error={signOut.error && `Could not sign out: ${signOut.error}`} />
      <div class="layout">
        <nav class="sidenav" aria-label="Console">
          <ul>
            {pages.map((page) => (
              <li key={page.path}>
                <a href={page.path} aria-current={path === page.path ? "page" : undefined}>
                  {page.title}
                </a>
              </li>
            ))}
          </ul>
          <a class="docs-link" href="/docs">
            API reference
          </a>
        </nav>
        <main id="main" ref={main} tabIndex={-1}>
          <Router>
            {[
              ...pages.map((page) => <Route key={page.path} path={page.path} component={page.component} />),
              <Route key="missing" default component={NoSuchPage} />,
            ]}
          </Router>
        </main>
      </div>
    </>
  );
}

function NoSuchPage() {
  return (
    <PageFrame title="No such page">
      <p>
        The console has no page here. <a href="/console">Go to the overview</a>.
      </p>
    </PageFrame>
  );
}
