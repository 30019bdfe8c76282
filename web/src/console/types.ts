// The answers the console reads, as /v2 (CallFire's definitions) and /console/api give them.

export interface Account {
  id: number;
  email: string;
  name?: string;
  firstName?: string;
  lastName?: string;
}

export interface Session {
  account: Account;
  csrfToken: string;
  expiresAt: number;
  sandbox: boolean;
}

export interface Page<T> {
  items: T[];
  limit: number;
  offset: number;
  totalCount: number;
}

export interface ApiCredential {
  id: number;
  name: string;
  username: string;
  /** In clear only in the answer to its creation; "****" and the last 4 characters after. */
  password: string;
  enabled: boolean;
}

export interface PlanUsage {
  intervalStart: number;
  intervalEnd: number;
  remainingPlanCredits: number;
  remainingPayAsYouGoCredits: number;
  totalRemainingCredits: number;
}

export interface Plan {
  name: string;
  monthlyCredits: number;
  creditsPerCallMinute: number;
  creditsPerText: number;
}

export interface CreditUsage {
  intervalBegin: number;
  intervalEnd: number;
  callsDurationMinutes: number;
  textsSent: number;
  creditsUsed: number;
}

export interface Media {
  id: number;
  name: string;
  created: number;
  lengthInBytes: number;
  mediaType: string;
  publicUrl: string;
}

/** READY (queued), SELECTED (the platform took it), FINISHED (its outcome is known). */
export type ActionState = "READY" | "SELECTED" | "FINISHED" | string;

interface Action {
  id: number;
  fromNumber?: string;
  toNumber?: string;
  state?: ActionState;
  campaignId?: number;
  batchId?: number;
  inbound?: boolean;
  created?: number;
  modified?: number;
  labels?: string[];
  attributes?: Record<string, string>;
}

export interface CallRecording {
  id: number;
  callId: number;
  name: string;
  created: number;
  lengthInBytes?: number;
  lengthInSeconds?: number;
  mp3Url?: string;
  state: "RECORDING" | "READY" | "ERROR";
}

export interface CallRecord {
  id: number;
  billedAmount?: number;
  finishTime?: number;
  callerName?: string;
  result?: string;
  recordings?: CallRecording[];
}

export interface Call extends Action {
  finalCallResult?: string;
  records?: CallRecord[];
}

export interface TextRecord {
  id: number;
  billedAmount?: number;
  finishTime?: number;
  message?: string;
  textResult?: string;
}

export interface Text extends Action {
  message?: string;
  finalTextResult?: string;
  records?: TextRecord[];
  media?: Media[];
}
