import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";

/** Every page's frame: its heading, which is also the window's title. */
export function PageFrame({ title, intro, children }: { title: string; intro?: ComponentChildren; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · Switchboard console`;
  }, [title]);
  return (
    <>
      <h1>{title}</h1>
      {intro && <p class="muted intro">{intro}</p>}
      {children}
    </>
  );
}
