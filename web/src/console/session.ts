import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Session } from "./types.js";

export const SessionContext = createContext<Session | null>(null);

/** The signed-in session; pages render only inside one. */
export function useSessionInfo(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("a console page rendered without a session");
  return session;
}
