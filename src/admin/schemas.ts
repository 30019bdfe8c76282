import { Type } from "@sinclair/typebox";
import { Name, errorRef } from "../http/schemas.js";

// Schemas shared by the operator API's route files.

export const adminErrors = { 400: errorRef, 401: errorRef, 404: errorRef, 409: errorRef, 500: errorRef };

export const Charge = Type.Object({ credits: Type.Number(), planCredits: Type.Number(), payAsYouGoCredits: Type.Number() });

export const ExternalId = Name({ minLength: 1, maxLength: 255, description: "your id for this report: a retry with the same id is not charged again" });
