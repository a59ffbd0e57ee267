// JSON lines on stdout (pino). Credentials never reach a log line: the code never logs them, and
// the redaction below is the second lock in case a header map or request ever is logged.
import { type Logger, pino } from "pino";

export type { Logger };

export const REDACTED_PATHS = [
  "authorization",
  "token",
  "certificate",
  "peerCertificate",
  "headers.authorization",
  "headers.cookie",
  "*.authorization",
  "*.token",
  "*.certificate",
  "*.peerCertificate",
  "*.headers.authorization",
  "*.headers.cookie",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "kube-rbac-extauthz" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: "[REDACTED]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
