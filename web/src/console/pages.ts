import type { ComponentType } from "preact";
import { ApiCredentials } from "./pages/api-credentials.js";
import { CallerIds } from "./pages/caller-ids.js";
import { Calls } from "./pages/calls.js";
import { MediaLibrary } from "./pages/media.js";
import { Overview } from "./pages/overview.js";
import { Texts } from "./pages/texts.js";

/**
 * The console's pages, in the navigation's order. A new page is a component in pages/ (each
 * starts with <PageFrame>) and a line here: the navigation, the route and the server's
 * fallback for a reload under /console/ all follow.
 */
export interface ConsolePage {
  path: string;
  title: string;
  component: ComponentType;
}

export const pages: ConsolePage[] = [
  { path: "/console", title: "Overview", component: Overview },
  { path: "/console/credentials", title: "API credentials", component: ApiCredentials },
  { path: "/console/caller-ids", title: "Caller IDs", component: CallerIds },
  { path: "/console/media", title: "Media", component: MediaLibrary },
  { path: "/console/calls", title: "Calls", component: Calls },
  { path: "/console/texts", title: "Texts", component: Texts },
];
